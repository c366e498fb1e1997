"""index_nodes and index_outbox_applied: each node's search index follows the outbox on its own (several
nodes on one database); the index upkeep jobs become per node (search.catch_up@<node>)

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('index_nodes',
    sa.Column('node', sa.String(length=40), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.Column('behind', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('node')
    )
    op.create_table('index_outbox_applied',
    sa.Column('node', sa.String(length=40), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('node', 'outbox_id')
    )
    with op.batch_alter_table('index_outbox_applied', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_outbox_applied_outbox_id'), ['outbox_id'], unique=False)
    # The library's one index applied what is marked done; a node unknown to index_nodes applies every row
    # still kept, so nothing pending is lost. The shared upkeep jobs give way to each node's own.
    op.execute("DELETE FROM jobs WHERE kind IN ('search.catch_up', 'search.rebuild') AND state IN ('queued', 'running')")


def downgrade() -> None:
    with op.batch_alter_table('index_outbox_applied', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_outbox_applied_outbox_id'))
    op.drop_table('index_outbox_applied')
    op.drop_table('index_nodes')
