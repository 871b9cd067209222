"""A copy of the database must not give back the order in which reports arrived.

Ten reports (each with a file and a mailbox message) alternate with audited staff actions at known, distinct times. If the raw order of the reporter
rows followed insertion order, every report could be placed between two audit times. SQLite: a copy of the
file, read table by table in storage order (NOT INDEXED). PostgreSQL: `pg_dump` after `meldkluis maintenance`.
"""

from __future__ import annotations

import io
import re
import shutil
import sqlite3
import subprocess
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from sqlalchemy.orm import Session

import crypto
from app.cli import main
from app.models import AuditEvent, Case
from app.services import cases, submission

from .conftest import sample_report

# Table -> the column that names the case a row belongs to.
CASE_COLUMN = {"case": "id", "participant": "case_id", "milestone": "case_id", "attachment": "case_id",
               "message": "case_id"}


def submit_alternating(db_session: Session, settings) -> list[str]:  # type: ignore[no-untyped-def]
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    case_ids = []
    for index in range(10):
        db_session.add(AuditEvent(at=start + timedelta(minutes=2 * index), action="case_viewed"))
        db_session.commit()
        receipt = submission.submit_report(db_session, settings, sample_report(),
                                           [("bewijs.txt", io.BytesIO(b"evidence %d" % index))])
        # and a mailbox message from the same reporter
        case = db_session.get(Case, receipt.case_id)
        assert case is not None
        keys = crypto.derive_reporter_keys(receipt.passphrase, case.reporter_salt)
        opened = cases.open_as_reporter(db_session, case, keys.private)
        cases.add_message(db_session, opened, author_kind="reporter", body="Nog iets.", day=date(2026, 3, 2))
        db_session.commit()
        case_ids.append(receipt.case_id)
    db_session.add(AuditEvent(at=start + timedelta(minutes=20), action="case_viewed"))
    db_session.commit()
    return case_ids


def arrival_order(rows: list[str], case_ids: list[str]) -> list[int]:
    """The submission numbers of the cases in the order their first row appears."""
    order: list[int] = []
    for case_id in rows:
        number = case_ids.index(case_id)
        if number not in order:
            order.append(number)
    return order


def check(table_rows: dict[str, list[str]], case_ids: list[str]) -> None:
    for table, rows in table_rows.items():
        order = arrival_order(rows, case_ids)
        assert sorted(order) == list(range(10)), table
        assert order != list(range(10)), f"{table} keeps the submission order"
    # The cause: rows lie in the order of their random ids.
    assert table_rows["case"] == sorted(case_ids)


def _sqlite_copy_rows(database_url: str, tmp_path: Path) -> dict[str, list[str]]:
    copy = tmp_path / "copy.db"
    shutil.copyfile(database_url.removeprefix("sqlite:///"), copy)
    connection = sqlite3.connect(copy)
    table_rows = {table: [row[0] for row in connection.execute(f'SELECT "{column}" FROM "{table}" NOT INDEXED')]  # noqa: S608
                  for table, column in CASE_COLUMN.items()}
    connection.close()
    return table_rows


def _pg_dump_rows(database_url: str) -> dict[str, list[str]]:
    parsed = urllib.parse.urlsplit(database_url.replace("+psycopg", ""))
    schema = urllib.parse.parse_qs(parsed.query)["options"][0].split("=", 1)[1]
    plain = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path, "", ""))
    dump = subprocess.run(["pg_dump", "--data-only", "--schema", schema, plain], capture_output=True, text=True,
                          check=True, timeout=120).stdout
    table_rows: dict[str, list[str]] = {}
    for table, column in CASE_COLUMN.items():
        match = re.search(rf'^COPY {re.escape(schema)}\."?{table}"? \((.*?)\) FROM stdin;\n(.*?)^\\\.$', dump,
                          re.M | re.S)
        assert match, table
        index = [c.strip().strip('"') for c in match.group(1).split(",")].index(column)
        table_rows[table] = [line.split("\t")[index] for line in match.group(2).splitlines()]
    return table_rows


def test_a_copy_of_the_database_does_not_give_back_the_submission_order(  # type: ignore[no-untyped-def]
        app: Flask, db_session: Session, settings, cli: CliRunner, tmp_path: Path) -> None:
    case_ids = submit_alternating(db_session, settings)
    db_session.close()
    if settings.database_url.startswith("sqlite"):
        # A copy taken at any moment: no nightly job has run.
        table_rows = _sqlite_copy_rows(settings.database_url, tmp_path)
    else:
        result = cli.invoke(main, ["maintenance"])
        assert result.exit_code == 0, result.output
        table_rows = _pg_dump_rows(settings.database_url)
    check(table_rows, case_ids)
