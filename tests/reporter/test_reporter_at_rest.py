"""What a database writer or a copy of storage can learn or change: bound metadata and padded sizes."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

import crypto
from app.db import engine_of, session_scope
from app.models import Attachment, Case, Message
from app.services import cases, storage, submission

from .conftest import sample_report


def open_case(db_session: Session, receipt: submission.Receipt) -> cases.OpenCase:
    case = db_session.get(Case, receipt.case_id)
    assert case is not None
    keys = crypto.derive_reporter_keys(receipt.passphrase, case.reporter_salt)
    return cases.open_as_reporter(db_session, case, keys.private)


@pytest.fixture
def thread(app: Flask, db_session: Session, settings):  # type: ignore[no-untyped-def]
    """A case with a file on the report, a handler's acknowledgement and a reporter message with a file."""
    receipt = submission.submit_report(db_session, settings, sample_report(), [("a.txt", io.BytesIO(b"report file"))])
    opened = open_case(db_session, receipt)
    day = date(2026, 2, 2)
    cases.add_message(db_session, opened, author_kind="handler", body="Ontvangen.", day=day, kind="acknowledgement")
    reply = cases.add_message(db_session, opened, author_kind="reporter", body="Dank u.", day=day)
    writer = storage.begin_attachment(settings.storage_path, opened)
    writer.write(b"reply file")
    writer.finish(db_session, name="b.txt", author_kind="reporter", day=day, message_id=reply.id)
    db_session.commit()
    return receipt


def _read_all(db_session: Session, receipt: submission.Receipt, settings) -> None:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    opened = open_case(db_session, receipt)
    cases.read_thread(db_session, opened)
    for attachment in db_session.scalars(select(Attachment).where(Attachment.case_id == receipt.case_id)):
        b"".join(storage.read_attachment(settings.storage_path, opened, attachment)[1])


def _first_message(db_session: Session, case_id: str, author_kind: str) -> Message:
    return db_session.scalars(select(Message).where(Message.case_id == case_id,
                                                    Message.author_kind == author_kind)).one()


EDITS: dict[str, Callable[[Session, str], None]] = {
    # A handler's acknowledgement relabelled as the reporter's.
    "author kind": lambda s, case_id: setattr(_first_message(s, case_id, "handler"), "author_kind", "reporter"),
    # An ordinary message turned into the acknowledgement that meets the clock.
    "message kind": lambda s, case_id: setattr(_first_message(s, case_id, "reporter"), "kind", "acknowledgement"),
    # The thread reordered.
    "thread position": lambda s, case_id: setattr(_first_message(s, case_id, "reporter"), "counter", 7),
    # The report's file moved to the reporter's message.
    "attachment's message": lambda s, case_id: s.execute(
        update(Attachment).where(Attachment.case_id == case_id, Attachment.message_id.is_(None))
        .values(message_id=_first_message(s, case_id, "reporter").id)),
    # The reply's file made the author's of the handler.
    "attachment's author": lambda s, case_id: s.execute(
        update(Attachment).where(Attachment.case_id == case_id, Attachment.message_id.is_not(None))
        .values(author_kind="handler")),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_changing_bound_metadata_in_the_database_makes_opening_fail(db_session: Session, settings, thread,  # type: ignore[no-untyped-def]
                                                                   edit: str) -> None:
    _read_all(db_session, thread, settings)  # opens as stored
    EDITS[edit](db_session, thread.case_id)
    db_session.commit()
    with pytest.raises(crypto.DecryptionError):
        _read_all(db_session, thread, settings)


def test_files_of_1000_and_1001_bytes_are_stored_with_equal_size(app: Flask, db_session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    receipt = submission.submit_report(db_session, settings, sample_report(),
                                       [("a.bin", io.BytesIO(b"a" * 1000)), ("b.bin", io.BytesIO(b"b" * 1001))])
    rows = db_session.scalars(select(Attachment).where(Attachment.case_id == receipt.case_id)).all()
    sizes = {storage.storage_path(settings.storage_path, row.storage_key).stat().st_size for row in rows}
    assert len(rows) == 2 and len(sizes) == 1
    # The real size is shown after decryption, and only there.
    infos = cases.attachment_infos(db_session, open_case(db_session, receipt))[None]
    assert sorted((info.name, info.size) for info in infos) == [("a.bin", 1000), ("b.bin", 1001)]


def test_no_column_holds_a_plaintext_size(app: Flask) -> None:
    columns = inspect(engine_of(app)).get_columns("attachment")
    assert not [c["name"] for c in columns if "size" in c["name"] or "length" in c["name"]]


def test_stored_files_and_folders_show_only_the_day(app: Flask, db_session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    from app.services import mailbox as mailboxes
    from app.services.upload import UploadedFile

    receipt = submission.submit_report(db_session, settings, sample_report(), [("a.txt", io.BytesIO(b"x" * 5000))])
    opened = open_case(db_session, receipt)
    writer = storage.begin_attachment(settings.storage_path, opened)
    writer.write(b"reply file")
    mailboxes.post_reply(db_session, settings, mailboxes.Mailbox("s", opened), "Hier is meer.",
                         [UploadedFile(writer, "b.txt", 10)])
    rows = db_session.scalars(select(Attachment).where(Attachment.case_id == receipt.case_id)).all()
    assert len(rows) == 2
    for row in rows:  # a download must not record its moment either
        b"".join(storage.read_attachment(settings.storage_path, opened, row)[1])
    # Stat only: listing a folder would set its atime (as the nightly gc's and backup's listing will).
    root = settings.storage_path
    files = [storage.storage_path(root, row.storage_key) for row in rows]
    for path in [root, *{f.parent for f in files}, *files]:
        info = path.stat()
        assert info.st_mtime_ns % (86_400 * 10**9) == 0, path
        assert info.st_atime_ns % (86_400 * 10**9) == 0, path
    assert sorted(root.rglob("*.*")) == [] and len([p for p in root.rglob("*") if p.is_file()]) == 2


def test_maintenance_dates_files_that_missed_their_settling(app: Flask, db_session: Session, settings, cli) -> None:  # type: ignore[no-untyped-def]
    import os

    from app.cli import main

    receipt = submission.submit_report(db_session, settings, sample_report(), [("a.txt", io.BytesIO(b"x" * 100))])
    row = db_session.scalars(select(Attachment).where(Attachment.case_id == receipt.case_id)).one()
    path = storage.storage_path(settings.storage_path, row.storage_key)
    os.utime(path, None)  # as if the process died between the commit and settle()
    assert path.stat().st_mtime_ns % (86_400 * 10**9) != 0
    db_session.close()  # no open transaction: on PostgreSQL, maintenance's CLUSTER waits for every one
    result = cli.invoke(main, ["maintenance"])
    assert result.exit_code == 0, result.output
    assert "1 stored file(s)" in result.output
    assert path.stat().st_mtime_ns % (86_400 * 10**9) == 0 and path.stat().st_atime_ns % (86_400 * 10**9) == 0


def test_no_reporter_written_table_has_a_time_column() -> None:
    from datetime import datetime

    from app.models import Base
    from app.services.maintenance import reporter_tables

    tables = reporter_tables()
    assert {"case", "participant", "message", "attachment", "milestone", "reporter_session"} <= set(tables)
    timed = [f"{t}.{c.name}" for t in tables for c in Base.metadata.tables[t].columns
             if c.type.python_type is datetime]
    assert timed == []


def test_a_file_sent_over_http_shows_only_the_day(app: Flask, client, settings) -> None:  # type: ignore[no-untyped-def]
    from .conftest import submit_via_http

    response = submit_via_http(client, files=[(io.BytesIO(b"scan " * 300), "scan.pdf")])
    assert response.status_code == 200
    with session_scope(app) as session:
        keys = list(session.scalars(select(Attachment.storage_key)))
    assert len(keys) == 1
    path = storage.storage_path(settings.storage_path, keys[0])
    for item in (path, path.parent, settings.storage_path):
        info = item.stat()
        assert info.st_mtime_ns % (86_400 * 10**9) == 0 and info.st_atime_ns % (86_400 * 10**9) == 0, item
