"""Engine and session handling: one engine per app, one session per request."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, Select, create_engine, event, exc, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import private_sqlite_file

_EXTENSION = "meldkluis.db"
# A pooled PostgreSQL connection unused for this long is checked with a round trip before it is handed out.
PING_AFTER_IDLE_SECONDS = 10.0


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
    engine = create_engine(url, connect_args={"prepare_threshold": None})
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle (`pool_pre_ping` for the idle ones).

    `pool_pre_ping` costs a round trip on every request. A connection lost to a database restart or an
    idle timeout is found the same way here after a quiet spell; under load connections are reused within
    seconds, and a connection that breaks mid-use makes SQLAlchemy invalidate the whole pool anyway.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")  # None: opened just now
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out (or opens) another one.
            raise exc.DisconnectionError() from error


def init_app(app: Flask, url: str) -> None:
    from app.services import tally

    engine = make_engine(url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    tally.install(sessions)  # the compliance tally follows every flush that changes a case
    app.extensions[_EXTENSION] = sessions
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


def count_rows(session: Session, query: Select[Any], at_most: int | None = None) -> int:
    """Rows of `query`, counting no further than `at_most` when given (a page that says "more than" need not
    count a long history)."""
    if at_most is not None:
        query = query.limit(at_most)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0
