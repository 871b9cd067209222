"""Nightly maintenance: rewrite the tables reporters write in random-id order, so that a backup taken after it
cannot set reporter rows against the timestamped audit rows.

On SQLite these tables are WITHOUT ROWID (migrations/versions/0002_at_rest.py): rows are always stored in
primary-key order, so there is nothing to do. PostgreSQL appends new rows to the heap in insertion order, and
`pg_dump` writes rows in heap order; `CLUSTER ... USING` the primary-key index rewrites each table in the order
of its random ids. It runs from the nightly timer after purge and gc and before the backup
(`meldkluis maintenance`). CLUSTER takes an exclusive lock on each table for the seconds it runs.
What stays (SECURITY.md): xmin and other tuple headers in the raw data directory, and the WAL.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models import Base


def reporter_tables() -> list[str]:
    """The tables a reporter's action writes: those that carry the NO_ROWID option (app/models/base.py)."""
    return [table.name for table in Base.metadata.sorted_tables
            if table.dialect_options["sqlite"].get("with_rowid") is False]


def reorder_reporter_tables(session: Session) -> list[str]:
    """Rewrite each reporter-written table in primary-key (random-id) order; returns the tables rewritten."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    tables = reporter_tables()
    for table in tables:
        primary_key = Base.metadata.tables[table].primary_key.name
        session.execute(text(f'CLUSTER "{table}" USING "{primary_key}"'))
    session.commit()
    return tables
