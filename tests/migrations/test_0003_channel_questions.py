"""Revision 0003_channel_questions: a channel's own questions come and go; existing channels keep none (the
standard questions)."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from app import migrate


def _columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns("channel")}
    finally:
        engine.dispose()


def test_channel_questions_column_added_and_removed(scratch_database: str) -> None:
    migrate.upgrade(scratch_database, "0002_perf")
    assert "questions" not in _columns(scratch_database)
    migrate.upgrade(scratch_database, "0003_channel_questions")
    assert "questions" in _columns(scratch_database)
    engine = create_engine(scratch_database)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM channel WHERE questions IS NOT NULL")).scalar() == 0
    finally:
        engine.dispose()
    migrate.downgrade(scratch_database, "0002_perf")
    assert "questions" not in _columns(scratch_database) and "categories" in _columns(scratch_database)
