"""Engine and session handling: one engine per app, one session per request."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.config import private_sqlite_file

_EXTENSION = "meldkluis.db"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        private_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # No WAL: the write-ahead log is a second place where deleted ciphertext lingers;
            # secure_delete overwrites freed pages so a purged case leaves no bytes behind.
            cursor.execute("PRAGMA secure_delete=ON")
            # Reads through a memory map of the file rather than a read call per page: the compliance
            # statistics walk tens of thousands of index entries (writes still go through write()).
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.close()

        return engine
    # psycopg prepares a statement on the server after five runs, and PostgreSQL may then plan it once
    # for any parameters; a date range over one month and one over every year need different plans.
    return create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": None})


def init_app(app: Flask, url: str) -> None:
    engine = make_engine(url)
    app.extensions[_EXTENSION] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine_of(app: Flask) -> Engine:
    bind = app.extensions[_EXTENSION].kw["bind"]
    assert isinstance(bind, Engine)
    return bind


def get_session() -> Session:
    """The request's database session, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[_EXTENSION]()
    session: Session = g.db_session
    return session


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session outside a request (CLI commands, tests): commits on success, rolls back on error."""
    session: Session = app.extensions[_EXTENSION]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        session.rollback()
        session.close()
    except Exception as error:
        # A dying connection fails its rollback after the response is made: raising here would replace that
        # response with the server's bare error page. Drop the connection instead; the pool makes a new one.
        current_app.logger.warning("database session closed with %s", type(error).__name__)
        with contextlib.suppress(Exception):
            session.invalidate()
