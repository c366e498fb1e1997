"""search_documents.head: the title, summary and tags' terms of a practice (its tsvector's A, B and C
weights), generated from ``terms`` and small enough to stay in the row, which the postgres engine ranks
every match by before it ranks the best of them by their whole text (PostgreSQL only)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.add_column('search_documents', sa.Column(
        'head', postgresql.TSVECTOR(), sa.Computed("ts_filter(terms, '{a,b,c}')", persisted=True), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_column('search_documents', 'head')
