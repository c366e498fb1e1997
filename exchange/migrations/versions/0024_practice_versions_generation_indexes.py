"""practice_versions.published_at and .visibility indexed: every reading page asks the library's
generation (the latest publish, and for a practice's page how many versions are restricted), which
scanned every version (1-2 ms at 10,000 practices, growing with the library)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""
from alembic import op


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_practice_versions_published_at', 'practice_versions', ['published_at'])
    op.create_index('ix_practice_versions_visibility', 'practice_versions', ['visibility'])


def downgrade() -> None:
    op.drop_index('ix_practice_versions_visibility', table_name='practice_versions')
    op.drop_index('ix_practice_versions_published_at', table_name='practice_versions')
