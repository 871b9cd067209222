"""The submission service: a committed case with sealed content, its participants, and nothing half-stored."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from app.models import Attachment, Case, CaseExclusion, Milestone, Participant, PendingNotification
from app.services import cases, storage, submission
from app.services.submission import SubmissionError

from .conftest import count_rows, report_fields, sample_report, stored_files


def open_case(db_session: Session, settings, receipt) -> cases.OpenCase:  # type: ignore[no-untyped-def]
    case = db_session.get(Case, receipt.case_id)
    assert case is not None
    keys = crypto.derive_reporter_keys(receipt.passphrase, case.reporter_salt)
    return cases.open_as_reporter(db_session, case, keys.private)


def test_submit_creates_a_sealed_case_that_the_reporter_can_open(app: Flask, db_session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    receipt = submission.submit_report(db_session, settings, sample_report(identity="Jan Jansen"),
                                       [("bonnetje.pdf", io.BytesIO(b"%PDF-1.4 evidence"))], day=date(2026, 1, 31))
    assert receipt.reference.startswith("MK-")
    assert receipt.reply_by == date(2026, 2, 7)  # Wbk: acknowledge within 7 days
    opened = open_case(db_session, settings, receipt)
    assert cases.read_report(opened) == report_fields()
    assert cases.read_identity(opened) == "Jan Jansen"
    assert opened.case.received_on == date(2026, 1, 31) and opened.case.category == "fraude"
    assert opened.case.receipt_hash == crypto.receipt_lookup_hash(receipt.receipt_code, settings.receipt_lookup_key)
    attachment = db_session.scalars(select(Attachment).where(Attachment.case_id == receipt.case_id)).one()
    name, chunks, _ = storage.read_attachment(settings.storage_path, opened, attachment)
    assert name == "bonnetje.pdf" and b"".join(chunks) == b"%PDF-1.4 evidence"
    assert db_session.scalars(select(Milestone.kind).where(Milestone.case_id == receipt.case_id)).all()


def test_without_recipients_only_the_reporter_is_a_participant(app: Flask, db_session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    receipt = submission.submit_report(db_session, settings, sample_report())
    participants = db_session.scalars(select(Participant).where(Participant.case_id == receipt.case_id)).all()
    assert [p.user_id for p in participants] == [None]


def test_deselected_recipient_is_excluded_and_gets_no_key(app: Flask, db_session: Session, settings,  # type: ignore[no-untyped-def]
                                                         add_recipient) -> None:
    alice, bob = add_recipient("alice"), add_recipient("bob")
    receipt = submission.submit_report(db_session, settings, sample_report(recipient_ids=[alice]))
    holders = set(db_session.scalars(select(Participant.user_id).where(Participant.case_id == receipt.case_id)))
    assert holders == {None, alice}
    excluded = db_session.scalars(select(CaseExclusion.user_id).where(CaseExclusion.case_id == receipt.case_id))
    assert list(excluded) == [bob]
    queued = set(db_session.scalars(select(PendingNotification.user_id)))
    assert queued == {alice}


def test_all_recipients_get_the_key_by_default(app: Flask, db_session: Session, settings, add_recipient) -> None:  # type: ignore[no-untyped-def]
    alice, bob = add_recipient("alice"), add_recipient("bob")
    receipt = submission.submit_report(db_session, settings, sample_report())
    holders = set(db_session.scalars(select(Participant.user_id).where(Participant.case_id == receipt.case_id)))
    assert holders == {None, alice, bob}


def test_at_least_one_recipient_must_stay(app: Flask, db_session: Session, settings, add_recipient) -> None:  # type: ignore[no-untyped-def]
    add_recipient("alice")
    with pytest.raises(SubmissionError) as raised:
        submission.submit_report(db_session, settings, sample_report(recipient_ids=[]))
    assert "recipients" in raised.value.errors
    assert count_rows(app, Case) == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"category": "no-such-category"}, "category"),
    ({"fields": {**report_fields(), "what": "   "}}, "what"),
    ({"fields": {**report_fields(), "ongoing": "perhaps"}}, "ongoing"),
    ({"fields": {**report_fields(), "who": "x" * 20_001}}, "who"),
    ({"identity": "y" * 20_001}, "identity"),
    ({"channel_slug": "nope"}, ""),
])
def test_invalid_reports_are_refused_with_a_message_per_field(app: Flask, db_session: Session, settings,  # type: ignore[no-untyped-def]
                                                              change, field) -> None:
    with pytest.raises(SubmissionError) as raised:
        submission.submit_report(db_session, settings, sample_report(**change),
                                 [("a.txt", io.BytesIO(b"data"))])
    assert raised.value.errors[field]
    assert count_rows(app, Case) == 0 and stored_files(app) == []


def test_too_many_or_too_large_files_store_nothing(app: Flask, db_session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    small = replace(settings, max_file_bytes=100, max_files=2)
    with pytest.raises(SubmissionError) as raised:
        submission.submit_report(db_session, small, sample_report(), [("a", io.BytesIO(b"x" * 101))])
    assert "files" in raised.value.errors
    with pytest.raises(SubmissionError):
        submission.submit_report(db_session, small, sample_report(), [(str(i), io.BytesIO(b"x")) for i in range(3)])
    assert count_rows(app, Case) == 0 and stored_files(app) == []


def test_a_failure_after_the_files_were_written_leaves_nothing(app: Flask, db_session: Session, settings,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("clock down")

    monkeypatch.setattr(submission.clock, "on_received", broken)
    with pytest.raises(RuntimeError):
        submission.submit_report(db_session, settings, sample_report(), [("a.txt", io.BytesIO(b"x" * 200_000))])
    assert count_rows(app, Case) == 0 and count_rows(app, Attachment) == 0 and stored_files(app) == []
