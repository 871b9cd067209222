"""Attachments: a sealed note of the hidden data removed from the file (app/services/scrub.py).

Revision ID: 0002_mat2
Revises: 0002_at_rest
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_mat2"
down_revision = "0002_at_rest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cleaning_sealed", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("cleaning_sealed")
