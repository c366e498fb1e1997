"""search_documents and search_engine_state: the PostgreSQL search engine's own index (PostgreSQL only;
on SQLite there is nothing to create, and that engine says it is unavailable)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_table('search_documents',
    sa.Column('id', sa.String(length=161), nullable=False),
    sa.Column('group_id', sa.String(length=161), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('visibility', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('published', sa.Date(), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('year', sa.String(length=4), nullable=False),
    sa.Column('hazards', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('phases', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('card', sa.JSON(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('terms', postgresql.TSVECTOR(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_search_documents_group_id', 'search_documents', ['group_id'])
    op.create_index('ix_search_documents_terms', 'search_documents', ['terms'], postgresql_using='gin')
    op.create_index('ix_search_documents_hazards', 'search_documents', ['hazards'], postgresql_using='gin')
    op.create_index('ix_search_documents_phases', 'search_documents', ['phases'], postgresql_using='gin')
    op.create_table('search_engine_state',
    sa.Column('engine', sa.String(length=20), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('built_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('engine')
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table('search_engine_state')
    op.drop_index('ix_search_documents_phases', table_name='search_documents')
    op.drop_index('ix_search_documents_hazards', table_name='search_documents')
    op.drop_index('ix_search_documents_terms', table_name='search_documents')
    op.drop_index('ix_search_documents_group_id', table_name='search_documents')
    op.drop_table('search_documents')
