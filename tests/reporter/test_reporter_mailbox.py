"""The mailbox service: uniform login failures, backoff, sessions that expire, and the reporter's actions."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from app.models import Case, Message, Milestone, PendingNotification, ReporterSession, utcnow
from app.services import cases, clock, mailbox, submission
from app.services.limits import Limits
from app.services.mailbox import LoginFailed
from app.services.upload import UploadedFile

from .conftest import count_rows, sample_report


@pytest.fixture
def receipt(app: Flask, db_session: Session, settings):  # type: ignore[no-untyped-def]
    return submission.submit_report(db_session, settings, sample_report(), [("a.txt", io.BytesIO(b"first file"))])


def count_kdf(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = crypto.derive_reporter_keys

    def counting(*args: object) -> crypto.ReporterKeys:
        calls[0] += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(crypto, "derive_reporter_keys", counting)
    return calls


def test_every_failed_login_runs_the_kdf_once_and_fails_alike(db_session: Session, settings, receipt,  # type: ignore[no-untyped-def]
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_kdf(monkeypatch)
    unknown = crypto.new_receipt_code()
    for code, words in [(unknown, receipt.passphrase), ("not a code", "x"), (receipt.receipt_code, "wrong words")]:
        before = calls[0]
        with pytest.raises(LoginFailed) as raised:
            mailbox.login(db_session, settings, code, words, limits=Limits.in_memory())
        assert calls[0] == before + 1
        assert str(raised.value) == ""


def test_login_opens_a_session_whose_key_only_the_cookie_holds(db_session: Session, settings, receipt) -> None:  # type: ignore[no-untyped-def]
    result = mailbox.login(db_session, settings, receipt.receipt_code.lower().replace("-", " "), receipt.passphrase,
                           limits=Limits.in_memory())
    row = db_session.get(ReporterSession, result.session_id)
    assert row is not None and row.case_id == receipt.case_id
    session_key = result.cookie_value.split(".", 1)[1]
    assert session_key.encode() not in row.wrapped_private_key
    opened = mailbox.resume(db_session, settings, result.cookie_value)
    assert opened is not None and opened.case.id == receipt.case_id
    assert mailbox.resume(db_session, settings, result.session_id + ".AAAA") is None
    assert mailbox.resume(db_session, settings, "garbage") is None
    # The idle deadline is signed: a cookie with a later deadline is refused.
    base, deadline, _mac = result.cookie_value.rsplit(".", 2)
    forged = f"{base}.{int(deadline) + 3600}.{_mac}"
    assert mailbox.resume(db_session, settings, forged) is None
    mailbox.logout(db_session, result.session_id)
    assert mailbox.resume(db_session, settings, result.cookie_value) is None


def test_idle_sessions_expire_and_are_deleted(db_session: Session, settings, receipt) -> None:  # type: ignore[no-untyped-def]
    start = utcnow()
    result = mailbox.login(db_session, settings, receipt.receipt_code, receipt.passphrase, now=start,
                           limits=Limits.in_memory())
    later = start + timedelta(minutes=settings.reporter_idle_minutes - 1)
    resumed = mailbox.resume(db_session, settings, result.cookie_value, now=later)
    assert resumed is not None  # and the deadline slides, in the new cookie value
    much_later = later + timedelta(minutes=settings.reporter_idle_minutes + 1)
    assert mailbox.resume(db_session, settings, resumed.cookie_value, now=later + timedelta(minutes=2)) is not None
    assert mailbox.resume(db_session, settings, result.cookie_value, now=much_later) is None
    assert db_session.get(ReporterSession, result.session_id) is None


def test_a_mailbox_visit_writes_nothing_finer_than_the_day(app: Flask, db_session: Session, settings,  # type: ignore[no-untyped-def]
                                                          receipt) -> None:
    from datetime import datetime

    from app.models import Base

    result = mailbox.login(db_session, settings, receipt.receipt_code, receipt.passphrase,
                           limits=Limits.in_memory())
    assert mailbox.resume(db_session, settings, result.cookie_value) is not None
    row = db_session.get(ReporterSession, result.session_id)
    assert row is not None and row.seen_on == utcnow().date()
    columns = Base.metadata.tables["reporter_session"].columns
    assert [c.name for c in columns if c.type.python_type in (datetime, date)] == ["seen_on"]
    assert columns["seen_on"].type.python_type is date


def test_backoff_locks_a_mailbox_for_a_growing_time(db_session: Session, settings, receipt, fake_clock) -> None:  # type: ignore[no-untyped-def]
    clock = fake_clock
    limits = Limits.in_memory(clock)
    first = mailbox.BACKOFF.first
    for _ in range(mailbox.BACKOFF.free):
        with pytest.raises(LoginFailed):
            mailbox.login(db_session, settings, receipt.receipt_code, "wrong", limits=limits)
    assert limits.locked(mailbox.MAILBOX_LIMIT, receipt.case_id)
    with pytest.raises(LoginFailed):  # even the right passphrase is refused while locked
        mailbox.login(db_session, settings, receipt.receipt_code, receipt.passphrase, limits=limits)
    clock.advance(first + timedelta(seconds=1))
    assert not limits.locked(mailbox.MAILBOX_LIMIT, receipt.case_id)
    with pytest.raises(LoginFailed):
        mailbox.login(db_session, settings, receipt.receipt_code, "wrong again", limits=limits)
    clock.advance(2 * first - timedelta(seconds=2))
    assert limits.locked(mailbox.MAILBOX_LIMIT, receipt.case_id)
    clock.advance(timedelta(seconds=2))
    mailbox.login(db_session, settings, receipt.receipt_code, receipt.passphrase, limits=limits)
    assert not limits.locked(mailbox.MAILBOX_LIMIT, receipt.case_id)
    assert mailbox.BACKOFF.lock_after(40) == mailbox.BACKOFF.longest


def test_failed_logins_leave_no_time_in_the_database(app: Flask, db_session: Session, settings, receipt) -> None:  # type: ignore[no-untyped-def]
    """A failed login's time would date a reporter's visit: nothing about it may reach the database."""
    from sqlalchemy import inspect

    before = {table: _rows(db_session, table) for table in inspect(db_session.get_bind()).get_table_names()}
    limits = Limits.in_memory()
    for _ in range(mailbox.BACKOFF.free + 2):
        with pytest.raises(LoginFailed):
            mailbox.login(db_session, settings, receipt.receipt_code, "wrong", limits=limits)
    after = {table: _rows(db_session, table) for table in before}
    assert after == before


def _rows(session: Session, table: str) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    return sorted((tuple(row) for row in session.execute(text(f'SELECT * FROM "{table}"'))), key=repr)  # noqa: S608 (names from the inspector)


def logged_in(db_session: Session, settings, receipt) -> mailbox.Mailbox:  # type: ignore[no-untyped-def]
    result = mailbox.login(db_session, settings, receipt.receipt_code, receipt.passphrase,
                           limits=Limits.in_memory())
    opened = mailbox.resume(db_session, settings, result.cookie_value)
    assert opened is not None
    return opened


def test_reply_with_a_file_and_reading_the_mailbox(db_session: Session, settings, receipt, add_recipient) -> None:  # type: ignore[no-untyped-def]
    box = logged_in(db_session, settings, receipt)
    from app.services import storage

    writer = storage.begin_attachment(settings.storage_path, box.opened)
    writer.write(b"second file")
    mailbox.post_reply(db_session, settings, box, "Nog een aanvulling.", [UploadedFile(writer, "extra.txt", 11)],
                       day=date(2026, 2, 1))
    handler_message = cases.add_message(db_session, box.opened, author_kind="handler", body="Dank u.", day=date.today())
    db_session.commit()
    view = mailbox.read_mailbox(db_session, box, "nl")
    assert view.report["what"] == sample_report().fields["what"]
    assert [f.name for f in view.report_files] == ["a.txt"]
    assert [(t.author_kind, t.body) for t in view.thread] == [("reporter", "Nog een aanvulling."), ("handler", "Dank u.")]
    assert [f.name for f in view.thread[0].attachments] == ["extra.txt"]
    db_session.refresh(handler_message)
    assert handler_message.read_by_reporter
    download = mailbox.download(db_session, settings, box, view.thread[0].attachments[0].id)
    assert download is not None and b"".join(download.chunks) == b"second file"
    assert "attachment;" in download.content_disposition


def test_reply_notifies_the_handlers(db_session: Session, settings, add_recipient) -> None:  # type: ignore[no-untyped-def]
    alice = add_recipient("alice")
    receipt = submission.submit_report(db_session, settings, sample_report())
    db_session.query(PendingNotification).delete()
    db_session.commit()
    box = logged_in(db_session, settings, receipt)
    mailbox.post_reply(db_session, settings, box, "Hallo", [])
    assert set(db_session.scalars(select(PendingNotification.user_id))) == {alice}
    with pytest.raises(mailbox.MailboxError):
        mailbox.post_reply(db_session, settings, box, "   ", [])
    with pytest.raises(mailbox.MailboxError):
        mailbox.post_reply(db_session, settings, box, "x" * (settings.max_text_chars + 1), [])


def test_meeting_request_starts_the_meeting_milestone(  # type: ignore[no-untyped-def]
    db_session: Session, settings, receipt, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = logged_in(db_session, settings, receipt)
    monkeypatch.setattr(clock, "today", lambda now=None: date(2026, 3, 2))
    mailbox.request_meeting(db_session, settings, box, "phone", "Na 17 uur", day=date(2026, 3, 2))
    message = db_session.scalars(select(Message).where(Message.case_id == receipt.case_id)).one()
    assert message.kind == "meeting_request" and message.created_on == date(2026, 3, 2)

    def meeting() -> Milestone:
        return db_session.scalars(select(Milestone).where(Milestone.case_id == receipt.case_id,
                                                          Milestone.kind == "meeting")).one()

    assert (meeting().triggered_on, meeting().due_on) == (date(2026, 3, 2), date(2026, 3, 16))
    monkeypatch.setattr(clock, "today", lambda now=None: date(2026, 3, 9))
    mailbox.request_meeting(db_session, settings, box, "in_person", "", day=date(2026, 3, 9))
    assert meeting().due_on == date(2026, 3, 16)  # asking again does not restart the term
    with pytest.raises(mailbox.MailboxError):
        mailbox.request_meeting(db_session, settings, box, "carrier pigeon", "")


def test_identity_disclosed_later(db_session: Session, settings, receipt) -> None:  # type: ignore[no-untyped-def]
    box = logged_in(db_session, settings, receipt)
    mailbox.disclose_identity(db_session, settings, box, "Piet, 06-12345678")
    view = mailbox.read_mailbox(db_session, box, "en")
    assert view.identity == "Piet, 06-12345678"
    assert view.thread[-1].kind == "identity_disclosed" and "Piet" not in view.thread[-1].body
    case = db_session.get(Case, receipt.case_id)
    assert case is not None and not case.anonymous


def test_download_of_another_case_is_refused(app: Flask, db_session: Session, settings, receipt) -> None:  # type: ignore[no-untyped-def]
    other = submission.submit_report(db_session, settings, sample_report(), [("b.txt", io.BytesIO(b"other"))])
    box = logged_in(db_session, settings, receipt)
    from app.models import Attachment

    foreign = db_session.scalars(select(Attachment).where(Attachment.case_id == other.case_id)).one()
    assert mailbox.download(db_session, settings, box, foreign.id) is None
    assert count_rows(app, Case) == 2


def test_purge_command_drops_idle_reporter_sessions(cli, db_session: Session, settings, receipt) -> None:  # type: ignore[no-untyped-def]
    from app.cli import main

    long_ago = utcnow() - timedelta(days=2)
    result = mailbox.login(db_session, settings, receipt.receipt_code, receipt.passphrase, now=long_ago,
                           limits=Limits.in_memory())
    assert db_session.get(ReporterSession, result.session_id) is not None
    assert cli.invoke(main, ["purge"]).exit_code == 0
    db_session.expire_all()
    assert db_session.get(ReporterSession, result.session_id) is None
