"""`meldkluis deadlines` on a real SMTP server, and purge / legal hold down to the bytes."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import LargeBinary, select, text
from sqlalchemy.orm import Session

import crypto
from app import db
from app.cli import main
from app.models import (
    Attachment,
    Base,
    Case,
    Channel,
    Message,
    Milestone,
    Note,
    Participant,
    ReminderSent,
    ReporterSession,
)
from app.services import cases, clock, compliance, retention
from app.services.submission import ReportInput, submit_report


def _case_with_handler(session: Session, handler_id: str, received: date, slug: str = "misstand") -> Case:
    channel = session.scalar(select(Channel).where(Channel.slug == slug))
    case = Case(reference="MK-" + secrets.token_hex(3).upper(), receipt_hash=secrets.token_bytes(32),
                reporter_public_key=b"k", reporter_salt=b"s", reporter_auth_digest=b"d", channel_id=channel.id,
                channel=channel, category="fraude", received_on=received)
    session.add(case)
    session.flush()
    session.add(Participant(case_id=case.id, user_id=handler_id, sealed_case_key=secrets.token_bytes(80)))
    clock.on_received(session, case)
    return case


@pytest.fixture
def mail_env(cli: CliRunner, smtp_server: object, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("MELDKLUIS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MELDKLUIS_SMTP_PORT", str(smtp_server.port))  # type: ignore[attr-defined]
    return smtp_server


def test_deadlines_mails_once_per_threshold_and_exits_1_when_overdue(
    app: Flask, cli: CliRunner, mail_env: object, make_staff: Callable[..., str]
) -> None:
    server = mail_env
    handler = make_staff("hanna", ("handler",), email="hanna@example.org")
    make_staff("coby", ("compliance",), email="coby@example.org")
    today = clock.today()
    with db.session_scope(app) as session:
        overdue = _case_with_handler(session, handler, today - timedelta(days=9))  # acknowledge 2 days late
        soon = _case_with_handler(session, handler, today - timedelta(days=5))  # acknowledge in 2 days
        references = (overdue.reference, soon.reference)

    first = cli.invoke(main, ["deadlines", "--days", "7"])
    assert first.exit_code == 1, first.output
    assert overdue.reference in first.output and "OVERDUE" in first.output
    messages = server.messages  # type: ignore[attr-defined]
    assert sorted(m["To"] for m in messages) == ["coby@example.org", "hanna@example.org"]
    to_handler = next(m for m in messages if m["To"] == "hanna@example.org")
    body = to_handler.get_content()
    assert "2 termijn(en)" in body and "2 deadline(s)" in body
    summary = next(m for m in messages if m["To"] == "coby@example.org").get_content()
    assert "Verlopen: 1" in summary and "Overdue: 1" in summary
    for message in messages:
        whole = message.as_string()
        for reference in references:
            assert reference not in whole
        assert "fraude" not in whole.lower() and "misstand" not in whole.lower()
    with db.session_scope(app) as session:
        assert {r.threshold for r in session.scalars(select(ReminderSent))} == {"overdue", "3-days"}

    second = cli.invoke(main, ["deadlines"])
    assert second.exit_code == 1
    assert len(messages) == 2  # idempotent: nothing new to say

    with db.session_scope(app) as session:  # the overdue one is done; the other is not overdue
        case = session.get(Case, overdue.id)
        for m in session.scalars(select(Milestone).where(Milestone.case_id == case.id)):
            m.done_on = m.due_on
        case.acknowledged_on = case.feedback_on = today - timedelta(days=1)
    third = cli.invoke(main, ["deadlines", "--no-mail"])
    assert third.exit_code == 0, third.output
    assert len(messages) == 2


def test_deadlines_on_the_day_is_a_new_threshold(
    app: Flask, cli: CliRunner, mail_env: object, make_staff: Callable[..., str]
) -> None:
    handler = make_staff("henk", ("handler",), email="henk@example.org")
    with db.session_scope(app) as session:
        _case_with_handler(session, handler, clock.today() - timedelta(days=7))  # due today
    result = cli.invoke(main, ["deadlines", "--days", "0"])
    assert result.exit_code == 0
    assert len(mail_env.messages) == 1  # type: ignore[attr-defined]
    with db.session_scope(app) as session:
        assert [r.threshold for r in session.scalars(select(ReminderSent))] == ["due"]


# --- purge and legal hold ---------------------------------------------------------------------------------

def _full_case(app: Flask, handler_id: str, canary: str) -> tuple[str, list[bytes]]:
    """A case with report, identity, a file, a message, a note and a reporter session; returns its secrets."""
    settings = app.config["MELDKLUIS"]
    with app.test_request_context(), db.session_scope(app) as session:
        receipt = submit_report(session, settings, ReportInput(
            "misstand", "fraude", {"what": canary, "when": canary, "where": canary}, identity=canary),
            [(f"{canary}.pdf", io.BytesIO(canary.encode() * 50))])
    with app.test_request_context(), db.session_scope(app) as session:
        case = session.get(Case, receipt.case_id)
        keys = crypto.derive_reporter_keys(receipt.passphrase, case.reporter_salt)
        opened = cases.open_as_reporter(session, case, keys.private)
        cases.add_message(session, opened, author_kind="reporter", body=canary, day=case.received_on)
        cases.add_note(session, opened, handler_id, canary)
        session.add(Participant(case_id=case.id, user_id=handler_id,
                                sealed_case_key=crypto.seal_case_key(opened.key, keys.public, case.id)))
        session.add(ReporterSession(case_id=case.id, wrapped_private_key=secrets.token_bytes(72),
                                    seen_on=clock.datetime.now(clock.UTC).date()))
        case.closed_on = clock.today() - timedelta(days=400)
        case.status, case.outcome = "closed", "no_wrongdoing"
        session.flush()
        clock.recompute(session, case)
        blobs = [case.report_sealed, case.identity_sealed, case.receipt_hash, case.reporter_public_key,
                 case.reporter_salt, case.reporter_auth_digest]
        for model, column in ((Message, Message.body_sealed), (Note, Note.body_sealed),
                              (Attachment, Attachment.name_sealed), (Attachment, Attachment.file_key_sealed),
                              (Participant, Participant.sealed_case_key),
                              (ReporterSession, ReporterSession.wrapped_private_key)):
            blobs += list(session.scalars(select(column).where(model.case_id == case.id)))  # type: ignore[attr-defined]
        return case.id, [b for b in blobs if b]


def _all_binary_values(session: Session) -> list[bytes]:
    values: list[bytes] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, LargeBinary):
                values += [v for v in session.execute(select(column)).scalars() if v]
    return values


def _stored_bytes(storage: Path) -> bytes:
    return b"".join(p.read_bytes() for p in storage.rglob("*") if p.is_file()) if storage.exists() else b""


def test_purge_destroys_every_ciphertext_and_key_and_keeps_the_register(
    app: Flask, cli: CliRunner, make_staff: Callable[..., str]
) -> None:
    settings = app.config["MELDKLUIS"]
    handler = make_staff("hetty", ("handler",))
    purged_id, secrets_of_purged = _full_case(app, handler, "PURGE-CANARY-1")
    held_id, secrets_of_held = _full_case(app, handler, "HOLD-CANARY-2")
    files_before = _stored_bytes(settings.storage_path)
    assert files_before
    with db.session_scope(app) as session:
        retention.set_legal_hold(session, session.get(Case, held_id), "Pending court case", handler)
    with app.test_request_context("/nl/"), db.session_scope(app) as session:
        on = clock.today()
        register_before = compliance.register(session, None, on, "nl").rows
        stats_before = compliance.compute_stats(session, "month", None, on)

    dry = cli.invoke(main, ["purge", "--dry-run"])
    assert dry.exit_code == 0 and "1 case(s) would purge" in dry.output
    result = cli.invoke(main, ["purge"])
    assert result.exit_code == 0, result.output
    assert "1 case(s) purged" in result.output

    with app.test_request_context("/nl/"), db.session_scope(app) as session:
        purged = session.get(Case, purged_id)
        assert purged.purged_on == on and purged.report_sealed is None and purged.identity_sealed is None
        for model in (Message, Note, Attachment, Participant, ReporterSession):
            assert session.scalars(select(model).where(model.case_id == purged_id)).first() is None  # type: ignore[attr-defined]
        register_after = compliance.register(session, None, on, "nl").rows
        assert [r.__dict__ | {"purged_on": None, "milestones": None} for r in register_after] == [
            r.__dict__ | {"purged_on": None, "milestones": None} for r in register_before]
        after = {r.reference: r.milestones for r in register_after}
        for row in register_before:
            for kind, (due, done) in row.milestones.items():
                assert after[row.reference][kind][0] == due
                if kind != "retention_review":
                    assert after[row.reference][kind][1] == done
        assert compliance.compute_stats(session, "month", None, on) == stats_before
        remaining = _all_binary_values(session)
        held = session.get(Case, held_id)
        assert held.purged_on is None and held.report_sealed is not None
    stored = _stored_bytes(settings.storage_path)
    assert stored and len(stored) < len(files_before)  # the held case's file stays
    for blob in secrets_of_purged:
        assert not any(blob in value for value in remaining)
    for blob in secrets_of_held:
        assert any(blob in value for value in remaining)
    if settings.database_url.startswith("sqlite"):
        raw = Path(settings.database_url.removeprefix("sqlite:///")).read_bytes()
        for blob in secrets_of_purged:
            assert blob not in raw, "purged bytes left in the SQLite file"
        assert secrets_of_held[0] in raw
    with db.session_scope(app) as session:
        if session.get_bind().dialect.name == "sqlite":
            assert session.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_legal_hold_needs_a_reason_and_is_audited(app: Flask, db_session: Session, cli: CliRunner) -> None:
    from app.models import AuditEvent

    channel = db_session.scalar(select(Channel).where(Channel.slug == "misstand"))
    case = Case(reference="MK-HOLD01", receipt_hash=b"h" * 32, reporter_public_key=b"k", reporter_salt=b"s",
                reporter_auth_digest=b"d", channel_id=channel.id, channel=channel, category="fraude",
                received_on=date(2020, 1, 1), closed_on=date(2020, 2, 1), status="closed")
    db_session.add(case)
    db_session.commit()
    with app.test_request_context(), pytest.raises(retention.LegalHoldError):
        retention.set_legal_hold(db_session, case, "  ", None)
    result = cli.invoke(main, ["legal-hold", "mk-hold01", "--reason", "Subpoena"])
    assert result.exit_code == 0, result.output
    assert cli.invoke(main, ["purge"]).output.strip().endswith("0 case(s) purged.")
    result = cli.invoke(main, ["legal-hold", "MK-HOLD01", "--reason", "Case settled", "--clear"])
    assert result.exit_code == 0
    assert "1 case(s) purged" in cli.invoke(main, ["purge"]).output
    db_session.expire_all()
    actions = [a.action for a in db_session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                                    .order_by(AuditEvent.at))]
    assert actions == ["legal_hold_set", "legal_hold_cleared", "case_purged"]
