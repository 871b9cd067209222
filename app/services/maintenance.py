"""Nightly maintenance: rewrite the tables reporters write in random-id order, so that a backup taken after it
cannot set reporter rows against the timestamped audit rows; and set the times of every stored file that has
a row, and of the storage folders, back to the day.

On SQLite these tables are WITHOUT ROWID (migrations/versions/0002_at_rest.py): rows are always stored in
primary-key order, so there is nothing to do. PostgreSQL appends new rows to the heap in insertion order, and
`pg_dump` writes rows in heap order; `CLUSTER ... USING` the primary-key index rewrites each table in the order
of its random ids. It runs from the nightly timer after purge and gc and before the backup
(`meldkluis maintenance`). CLUSTER takes an exclusive lock on each table for the seconds it runs.
What stays (SECURITY.md): xmin and other tuple headers in the raw data directory, and the WAL.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models import Attachment, Base
from app.services import clock, storage, tally


def reporter_tables() -> list[str]:
    """The tables a reporter's action writes: those that carry the NO_ROWID option (app/models/base.py)."""
    return [table.name for table in Base.metadata.sorted_tables
            if table.dialect_options["sqlite"].get("with_rowid") is False]


def reorder_reporter_tables(session: Session) -> list[str]:
    """Rewrite each reporter-written table in primary-key (random-id) order; returns the tables rewritten."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    tables = reporter_tables()
    # CLUSTER waits for every open transaction on the table: fail after a minute rather than hang the nightly
    # chain (the backup would then copy insertion order; the job's failure shows in its log).
    session.execute(text("SET LOCAL lock_timeout = '60s'"))
    for table in tables:
        primary_key = Base.metadata.tables[table].primary_key.name
        session.execute(text(f'CLUSTER "{table}" USING "{primary_key}"'))
    session.commit()
    return tables


def settle_stored_files(session: Session, storage_root: Path) -> int:
    """Floor to the day the times of every attachment file with a committed row, and of its folders.

    After a crash between a commit and `AttachmentWriter.settle()` a file would keep its exact time, and the
    nightly gc's listing sets the folders' atime: this puts both right before the backup. Files without a row
    are left alone (they are gc's to judge by their exact age). Returns the number of rows seen.
    """
    count = 0
    for storage_key in session.scalars(select(Attachment.storage_key)):
        storage.settle_times(storage_root, storage_key)
        count += 1
    return count


def repair_tally(session: Session) -> int:
    """Rebuild the compliance tally if it differs from the cases; returns the number of figures that differed."""
    drifted = tally.drift(session.connection())
    if drifted:
        tally.rebuild(session.connection())
        session.commit()
    return drifted


def repair_next_deadlines(session: Session) -> int:
    """Recompute the nearest deadline of the cases whose milestones were changed outside the clock; returns how
    many (the inbox, the attention list and the deadline run read it)."""
    repaired = clock.put_in_step(session)
    if repaired:
        session.commit()
    return repaired
