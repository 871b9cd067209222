"""Revision 0002_mat2: the sealed cleaning note on attachments comes and goes without touching other data."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from app import migrate


def _columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns("attachment")}
    finally:
        engine.dispose()


def test_cleaning_note_column_added_and_removed(scratch_database: str) -> None:
    migrate.upgrade(scratch_database, "0002_at_rest")
    assert "cleaning_sealed" not in _columns(scratch_database)
    migrate.upgrade(scratch_database, "0002_mat2")
    assert "cleaning_sealed" in _columns(scratch_database)
    migrate.downgrade(scratch_database, "0002_at_rest")
    assert "cleaning_sealed" not in _columns(scratch_database) and "name_sealed" in _columns(scratch_database)
