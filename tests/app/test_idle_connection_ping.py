"""A pooled connection that was lost while idle is replaced before a request uses it.

PostgreSQL engines ping a connection only after it sat idle (app/db.py), instead of `pool_pre_ping` on
every request. On PostgreSQL the server really ends the backend; on SQLite (which needs no ping in
production) the same mechanism is installed on a SQLite engine and its connection closed underneath.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, text

from app import db


def _engine(url: str) -> Engine:
    engine = db.make_engine(url)
    if engine.dialect.name == "sqlite":
        db._ping_idle_connections(engine)
    return engine


def _lose_pooled_connection(engine: Engine, url: str) -> None:
    """End the one pooled connection behind the pool's back, as a database restart does."""
    with engine.connect() as connection:
        dbapi_connection = connection.connection.dbapi_connection
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar() if engine.dialect.name == "postgresql" else None
    if pid is None:
        assert dbapi_connection is not None
        dbapi_connection.close()
        return
    other = create_engine(url)
    with other.begin() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    other.dispose()


def test_a_connection_lost_while_idle_is_replaced(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine(database_url)
    try:
        _lose_pooled_connection(engine, database_url)
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout counts as after a quiet spell
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(database_url: str) -> None:
    """Without the ping the lost connection is used as it is: the ping (not luck) is what saved it above."""
    engine = _engine(database_url)
    try:
        _lose_pooled_connection(engine, database_url)
        with pytest.raises(Exception), engine.connect() as connection:  # noqa: B017, PT011 - driver-specific
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
