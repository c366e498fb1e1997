"""search_gaps: the content-gap report's daily counts of searches, searches that found nothing and
results opened, by normalised query and language (nothing about who searched); link_checks: the last
check of each link to another site found in a practice

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0017'
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
    op.create_table(
        'link_checks',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('problem', sa.String(length=200), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('digest'),
    )
    with op.batch_alter_table('link_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_checks_checked_at'), ['checked_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('link_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_checks_checked_at'))
    op.drop_table('link_checks')
    op.drop_table('search_gaps')
