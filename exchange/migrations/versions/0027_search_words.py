"""search_words and search_documents.vocabulary: the PostgreSQL search engine's spelling vocabulary, the
words each visibility's practices use with how often, so a misspelt word is mended only into words the
reader may read; fuzzystrmatch's levenshtein picks a word's near neighbours in the database
(PostgreSQL only)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # a trusted extension (PostgreSQL 13 and later): the database's owner may create it
    op.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch")
    op.add_column('search_documents', sa.Column('vocabulary', postgresql.JSONB(), nullable=True))
    op.create_table('search_words',
    sa.Column('visibility', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('word', sa.Text(), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('visibility', 'source', 'word')
    )
    op.execute("CREATE INDEX ix_search_words_near ON search_words "
               "(source, visibility, left(word, 1), length(word))")
    # rows indexed before have no vocabulary: the engine asks for a rebuild (SCHEMA_VERSION 2)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table('search_words')
    op.drop_column('search_documents', 'vocabulary')
