"""practices.visibility no longer indexed: nine practices in ten are public, so the index selects little,
yet SQLite's planner (which keeps no statistics here) preferred it to every better plan: a practice's
translations were found by reading most of the library (4.8 ms of a practice page at 10,000 practices),
and the library's feed sorted every public practice to show the newest 50 (24 ms; 0.3 ms through the
versions' published_at index)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08
"""
from alembic import op


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_practices_visibility', table_name='practices')


def downgrade() -> None:
    op.create_index('ix_practices_visibility', 'practices', ['visibility'])
