"""harvest_sources and harvested_practices: other nodes harvested over OAI-PMH, and each harvested
practice's provenance

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('harvest_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sets', sa.JSON(), nullable=False),
    sa.Column('interval_hours', sa.Integer(), nullable=True),
    sa.Column('last_datestamp', sa.String(length=20), nullable=True),
    sa.Column('last_run_at', sa.DateTime(), nullable=True),
    sa.Column('next_run_at', sa.DateTime(), nullable=True),
    sa.Column('last_report', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('base_url')
    )
    with op.batch_alter_table('harvest_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_harvest_sources_next_run_at'), ['next_run_at'], unique=False)
    op.create_table('harvested_practices',
    sa.Column('practice_id', sa.String(length=161), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('source_name', sa.String(length=200), nullable=False),
    sa.Column('identifier', sa.String(length=300), nullable=False),
    sa.Column('original_version', sa.Integer(), nullable=False),
    sa.Column('original_url', sa.String(length=500), nullable=False),
    sa.Column('local_version', sa.Integer(), nullable=False),
    sa.Column('harvested_at', sa.DateTime(), nullable=False),
    sa.Column('conflict_submission_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['harvest_sources.id'], ),
    sa.PrimaryKeyConstraint('practice_id')
    )
    with op.batch_alter_table('harvested_practices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_harvested_practices_source_id'), ['source_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('harvested_practices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_harvested_practices_source_id'))
    op.drop_table('harvested_practices')
    with op.batch_alter_table('harvest_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_harvest_sources_next_run_at'))
    op.drop_table('harvest_sources')
