"""search_gaps: the content-gap report's daily counts of searches, searches that found nothing and
results opened, by normalised query and language (nothing about who searched)

Revision ID: 0019
Revises: 0012
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'search_gaps',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('query', sa.String(length=200), nullable=False),
        sa.Column('searches', sa.Integer(), nullable=False),
        sa.Column('zero_results', sa.Integer(), nullable=False),
        sa.Column('clicks', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'language', 'query'),
    )


def downgrade() -> None:
    op.drop_table('search_gaps')
