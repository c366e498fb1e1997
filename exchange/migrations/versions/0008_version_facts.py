"""what each version was published as: visibility, credit, original version, submission; rendered HTML

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('practice_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visibility', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('credit', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('original_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('submission_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_practice_versions_submission_id'), ['submission_id'], unique=False)
    # Credit the names people chose, not their addresses; versions published from the command line
    # are credited to nobody (shown as imported). Visibility is read from each version's file by
    # 'exchange init' (the database cannot see the files).
    op.execute("UPDATE practice_versions SET credit = (SELECT users.name FROM users "
               "WHERE users.email = practice_versions.actor)")
    op.execute("UPDATE practice_versions SET credit = '' WHERE credit IS NULL")
    # A translation was made from the original's version current when it was published; for those
    # published before the original existed, NULL (the original's first version).
    op.execute("UPDATE practice_versions SET original_version = (SELECT max(o.version) FROM practice_versions o "
               "JOIN practices t ON t.translation_of = o.practice_id WHERE t.id = practice_versions.practice_id "
               "AND o.published_at <= practice_versions.published_at)")
    op.create_table('rendered_versions',
    sa.Column('practice_id', sa.String(length=161), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('renderer', sa.String(length=40), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('contents', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('practice_id', 'version')
    )


def downgrade() -> None:
    op.drop_table('rendered_versions')
    with op.batch_alter_table('practice_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_versions_submission_id'))
        batch_op.drop_column('submission_id')
        batch_op.drop_column('original_version')
        batch_op.drop_column('credit')
        batch_op.drop_column('visibility')
