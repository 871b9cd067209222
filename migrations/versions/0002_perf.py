"""Performance: the thread read a page at a time, and PostgreSQL's estimate of open deadlines.

- `ix_message_case_counter` (case_id, counter): the handler's case page reads one page of a thread as a
  counter range (app/services/cases.py read_thread_page), whatever the length of the thread.
- `ix_milestone_open_due` (due_on, case_id, kind) over open deadlines only: the inbox walks them in date order
  and stops after a page (app/services/handling.py inbox), instead of grouping every open deadline.
- PostgreSQL only: extended statistics (most common values) on milestone (kind, done_on). Open deadlines
  (`done_on IS NULL AND kind <> 'retention_review'`) are few, but every closed case keeps an undone retention
  review, so the planner, multiplying the two columns' selectivities as if independent, expected about 14
  times as many rows as there are (6,100 for 427 at 10,000 cases) and planned the inbox for that. With the
  statistics object ANALYZE records the columns' joint frequencies and the estimate is exact. SQLite has no
  such statistics and needs none (it picks the partial index ix_milestone_open_deadline by its predicate).

Revision ID: 0002_perf
Revises: 0002_at_rest (this branch carries h/crypto's revision; the coordinator re-chains linearly)
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_perf"
down_revision = "0002_mat2"
branch_labels = None
depends_on = None

OPEN_DEADLINE = "done_on IS NULL AND kind != 'retention_review'"


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index("ix_message_case_counter", ["case_id", "counter"], unique=False)
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.create_index("ix_milestone_open_due", ["due_on", "case_id", "kind"], unique=False,
                              sqlite_where=sa.text(OPEN_DEADLINE), postgresql_where=sa.text(OPEN_DEADLINE))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE STATISTICS st_milestone_kind_done (mcv) ON kind, done_on FROM milestone")
        op.execute("ANALYZE milestone")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_milestone_kind_done")
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.drop_index("ix_milestone_open_due", sqlite_where=sa.text(OPEN_DEADLINE),
                            postgresql_where=sa.text(OPEN_DEADLINE))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_case_counter")
