"""Revision 0005_next_deadline: an open case's nearest open deadline moves onto its row (the inbox's order), filled
in from the stored milestones; closed cases and the retention review never give one."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, create_engine, inspect, text

from app import migrate

FILLER: dict[str, Any] = {"VARCHAR": "x", "TEXT": "x", "INTEGER": 0, "BOOLEAN": False, "DATE": date(2026, 1, 1),
                          "BLOB": b"x", "BYTEA": b"x", "JSON": "[]"}


def _insert(connection: Connection, table: str, **values: Any) -> None:
    """A row with `values` and a filler in every other column that must have one."""
    for column in inspect(connection).get_columns(table):
        if column["name"] not in values and not column["nullable"]:
            values[column["name"]] = FILLER[str(column["type"]).split("(")[0]]
    names = ", ".join(f'"{name}"' for name in values)
    # Table and column names come from this test and the database's own catalogue; the values are bound.
    statement = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(":" + n for n in values)})'  # noqa: S608
    connection.execute(text(statement), values)


def _milestone(connection: Connection, case_id: str, kind: str, due: date, done: date | None = None) -> None:
    _insert(connection, "milestone", id=f"{case_id}-{kind}", case_id=case_id, kind=kind, due_on=due, done_on=done,
            extensions="[]")


def test_next_deadline_filled_in_from_the_milestones_and_removed_again(scratch_database: str) -> None:
    migrate.upgrade(scratch_database, "0004_tally")
    engine = create_engine(scratch_database)
    try:
        with engine.begin() as connection:
            _insert(connection, "deadline_policy", id="p", slug="p")
            _insert(connection, "channel", id="c", slug="c", policy_id="p")
            for number, closed in enumerate((None, None, None, date(2026, 3, 1))):
                _insert(connection, "case", id=f"case{number}", reference=f"MK-{number}", receipt_hash=bytes([number]),
                        channel_id="c", received_on=date(2026, 1, 10), closed_on=closed)
            # An open case: the earliest undone deadline wins, ties broken by kind; done ones and the
            # retention review do not count.
            _milestone(connection, "case0", "feedback", date(2026, 4, 10))
            _milestone(connection, "case0", "respond", date(2026, 2, 1))
            _milestone(connection, "case0", "decide", date(2026, 2, 1))
            _milestone(connection, "case0", "acknowledge", date(2026, 1, 17), done=date(2026, 1, 12))
            _milestone(connection, "case0", "retention_review", date(2025, 1, 1))
            _milestone(connection, "case1", "acknowledge", date(2026, 1, 17), done=date(2026, 1, 20))  # all done
            _milestone(connection, "case1", "retention_review", date(2025, 1, 1))
            # case2 has no milestones at all; case3 is closed with its acknowledgement never sent.
            _milestone(connection, "case3", "acknowledge", date(2026, 1, 17))
        migrate.upgrade(scratch_database, "0005_next_deadline")
        with engine.connect() as connection:
            found = {row.id: (row.next_due_on and date.fromisoformat(str(row.next_due_on)), row.next_milestone)
                     for row in connection.execute(
                text('SELECT id, next_due_on, next_milestone FROM "case"'))}
            assert {"ix_case_next_due"} <= {index["name"] for index in inspect(connection).get_indexes("case")}
        assert found == {"case0": (date(2026, 2, 1), "decide"), "case1": (None, None), "case2": (None, None),
                         "case3": (None, None)}
        migrate.downgrade(scratch_database, "0004_tally")
        with engine.connect() as connection:
            columns = {column["name"] for column in inspect(connection).get_columns("case")}
        assert "next_due_on" not in columns and "next_milestone" not in columns and "closed_on" in columns
    finally:
        engine.dispose()
