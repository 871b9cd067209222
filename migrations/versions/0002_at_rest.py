"""Nothing at rest dates or sizes a reporter: no plaintext size column; reporter tables WITHOUT ROWID on SQLite.

- `attachment.size` goes: the real size now lives only inside the sealed file key (stored files are
  Padmé-padded), so no column holds a plaintext size.
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
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
    # The sizes are inside the sealed file keys now; a downgraded row says 0.
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.add_column(sa.Column("size", sa.BigInteger(), nullable=False, server_default="0"))
