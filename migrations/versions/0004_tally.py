"""The compliance tally: counts per month of receipt and channel, so the overview reads a bounded number of rows.

- `tally_month` (month, channel_id): cases received, closed, acknowledgement and feedback milestones and how
  many were met on time.
- `tally_days` (month, channel_id, kind, days): how many cases were acknowledged ("ack") or given feedback
  ("feedback") that many days after receipt (the medians).
- `tally_due` (month, channel_id, kind, due_on): undone acknowledgement and feedback milestones ("ack",
  "feedback"), and the open cases' open deadlines ("open"), by due date.

The tables are filled here from the existing cases, with SQL written for this revision (the app's own
`app/services/tally.py from_scratch` may change with later revisions; this back-fill must not). SQLite stores
them WITHOUT ROWID, as every table a reporter's action writes (app/models/base.py NO_ROWID).

Revision ID: 0004_tally
Revises: 0003_channel_questions
"""

# ruff: noqa: S608  (the back-fill SQL is built from this file's constants only)
import sqlalchemy as sa
from alembic import op

revision = "0004_tally"
down_revision = "0003_channel_questions"
branch_labels = None
depends_on = None

ACK_KINDS = "('acknowledge', 'respond')"
FEEDBACK_KINDS = "('feedback', 'decide')"


def _back_fill(sqlite: bool) -> None:
    month = "date(c.received_on, 'start of month')" if sqlite else "CAST(date_trunc('month', c.received_on) AS DATE)"

    def days(column: str) -> str:
        if sqlite:
            return f"CAST(julianday(c.{column}) - julianday(c.received_on) AS INTEGER)"
        return f"(c.{column} - c.received_on)"

    op.execute(
        "INSERT INTO tally_month (month, channel_id, received, closed, ack_total, ack_on_time, feedback_total, "
        "feedback_on_time) "
        f"SELECT {month}, c.channel_id, count(*), count(c.closed_on), sum(c.acknowledgement_milestones), "
        "sum(c.acknowledgements_on_time), sum(c.feedback_milestones), sum(c.feedback_on_time) "
        f'FROM "case" c GROUP BY {month}, c.channel_id'
    )
    for kind, column in (("ack", "acknowledged_on"), ("feedback", "feedback_on")):
        op.execute(
            "INSERT INTO tally_days (month, channel_id, kind, days, cases) "
            f"SELECT {month}, c.channel_id, '{kind}', {days(column)}, count(*) FROM \"case\" c "
            f"WHERE c.{column} IS NOT NULL GROUP BY {month}, c.channel_id, {days(column)}"
        )
    undone = 'FROM "case" c JOIN milestone m ON m.case_id = c.id WHERE m.done_on IS NULL'
    group = f"CASE WHEN m.kind IN {ACK_KINDS} THEN 'ack' ELSE 'feedback' END"
    op.execute(
        "INSERT INTO tally_due (month, channel_id, kind, due_on, milestones) "
        f"SELECT {month}, c.channel_id, {group}, m.due_on, count(*) {undone} "
        f"AND (m.kind IN {ACK_KINDS} OR m.kind IN {FEEDBACK_KINDS}) GROUP BY {month}, c.channel_id, {group}, m.due_on"
    )
    op.execute(
        "INSERT INTO tally_due (month, channel_id, kind, due_on, milestones) "
        f"SELECT {month}, c.channel_id, 'open', m.due_on, count(*) {undone} "
        f"AND c.closed_on IS NULL AND m.kind != 'retention_review' GROUP BY {month}, c.channel_id, m.due_on"
    )


def _keys() -> list[sa.Column[object]]:
    return [sa.Column("month", sa.Date(), nullable=False), sa.Column("channel_id", sa.String(length=32), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "tally_month", *_keys(),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in (
            "received", "closed", "ack_total", "ack_on_time", "feedback_total", "feedback_on_time")),
        sa.PrimaryKeyConstraint("month", "channel_id", name=op.f("pk_tally_month")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "tally_days", *_keys(),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "channel_id", "kind", "days", name=op.f("pk_tally_days")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "tally_due", *_keys(),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("milestones", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "channel_id", "kind", "due_on", name=op.f("pk_tally_due")),
        sqlite_with_rowid=False,
    )
    _back_fill(op.get_bind().dialect.name == "sqlite")


def downgrade() -> None:
    for table in ("tally_due", "tally_days", "tally_month"):
        op.drop_table(table)
