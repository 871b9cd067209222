"""Channels: their own report questions (which standard questions, required or not, new ones in NL/EN).

`channel.questions` is a JSON list of {"key", "required", "nl", "en"}; NULL means the standard questions of
app/services/submission.py QUESTIONS, so every existing channel keeps today's form.

Revision ID: 0003_channel_questions
Revises: 0002_perf
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_channel_questions"
down_revision = "0002_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.drop_column("questions")
