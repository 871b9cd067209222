"""Nothing at rest dates or sizes a reporter: no plaintext size column; reporter tables WITHOUT ROWID on SQLite.

- `attachment.size` goes: the real size now lives only inside the sealed file key (stored files are
  Padmé-padded), so no column holds a plaintext size.
- `reporter_session.expires_at` (an exact time, updated at every mailbox request) goes: the idle deadline lives
  in the signed cookie; `seen_on` keeps only the day the session was last used. Open sessions end.
- On SQLite, the tables a reporter's action writes are rebuilt WITHOUT ROWID, so rows are stored in the order
  of their random primary keys instead of insertion order (models carry the same option: app/models/base.py
  NO_ROWID). PostgreSQL has no such option; `meldkluis maintenance` rewrites those tables in key order nightly.

Revision ID: 0002_at_rest
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_at_rest"
down_revision = "0001"
branch_labels = None
depends_on = None

REPORTER_TABLES = (
    "case", "participant", "case_exclusion", "message", "attachment", "milestone", "pending_notification",
    "reporter_session",
)


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in REPORTER_TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}):
            pass


def upgrade() -> None:
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.drop_column("size")
    op.execute("DELETE FROM reporter_session")
    with op.batch_alter_table("reporter_session") as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.add_column(sa.Column("seen_on", sa.Date(), nullable=False))
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
    op.execute("DELETE FROM reporter_session")
    with op.batch_alter_table("reporter_session") as batch_op:
        batch_op.drop_column("seen_on")
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False))
    # The sizes are inside the sealed file keys now; a downgraded row says 0.
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.add_column(sa.Column("size", sa.BigInteger(), nullable=False, server_default="0"))
