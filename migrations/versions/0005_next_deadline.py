"""The open case's nearest deadline on its row, for the inbox.

`case.next_due_on` and `case.next_milestone` hold an open case's nearest open deadline (by date, then kind; the
retention review is no deadline), kept by the clock with the case's other milestone figures (app/services/
clock.py `_summarise`); a closed case has none, also when it left milestones unmet. `ix_case_next_due` holds
only the cases that have one: the inbox walks it in date order and stops after a page. Before, the inbox walked
every open deadline, and the unmet ones of closed cases, which accumulate over the years, came first, so every
handler's inbox opened on closed cases "1,800 days late".

Existing cases get their figure from their stored milestones.

Revision ID: 0005_next_deadline
Revises: 0004_tally
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_next_deadline"
down_revision = "0004_tally"
branch_labels = None
depends_on = None

HAS_DEADLINE = "next_due_on IS NOT NULL"
OPEN_DEADLINES = """FROM milestone AS m WHERE m.case_id = "case".id AND m.done_on IS NULL
                    AND m.kind != 'retention_review'"""


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("next_milestone", sa.String(length=32), nullable=True))
    op.execute(f"""UPDATE "case" SET
        next_due_on = (SELECT min(m.due_on) {OPEN_DEADLINES}),
        next_milestone = (SELECT m.kind {OPEN_DEADLINES} ORDER BY m.due_on, m.kind LIMIT 1)
        WHERE closed_on IS NULL""")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index("ix_case_next_due", ["next_due_on", "received_on", "reference"], unique=False,
                              sqlite_where=sa.text(HAS_DEADLINE), postgresql_where=sa.text(HAS_DEADLINE))


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_next_due", sqlite_where=sa.text(HAS_DEADLINE),
                            postgresql_where=sa.text(HAS_DEADLINE))
        batch_op.drop_column("next_milestone")
        batch_op.drop_column("next_due_on")
