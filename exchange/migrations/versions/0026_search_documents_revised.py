"""search_documents.revised: when the library received a practice's current version, which the
postgres engine's "recently updated" order sorts by (PostgreSQL only; rows written before it hold NULL
until the rebuild that search engine schema 2 asks for)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.add_column('search_documents', sa.Column('revised', sa.DateTime(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_column('search_documents', 'revised')
