"""The nightly purge takes many cases per statement: exactly the due ones go, down to their rows and files."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import crypto
from app import db
from app.models import Attachment, AuditEvent, Case, Message, Milestone, Note, Participant, ReporterSession
from app.services import cases, clock, retention
from app.services.storage import storage_path
from app.services.submission import ReportInput, submit_report

CONTENT = (Attachment, Message, Note, Participant, ReporterSession)


@dataclass(frozen=True)
class Made:
    case_id: str
    reference: str
    storage_keys: list[str]


def _case(app: Flask, handler_id: str, channel: str, category: str, *, closed_days_ago: int | None,
          hold: bool = False) -> Made:
    """A case with a report, a file, a message, a note, a handler, a reporter session; closed that long ago."""
    settings = app.config["MELDKLUIS"]
    with app.test_request_context(), db.session_scope(app) as session:
        receipt = submit_report(session, settings, ReportInput(channel, category, {"what": "Melding"}),
                                [("bewijs.pdf", io.BytesIO(secrets.token_bytes(3000)))])
    with app.test_request_context(), db.session_scope(app) as session:
        case = session.get(Case, receipt.case_id)
        assert case is not None
        keys = crypto.derive_reporter_keys(receipt.passphrase, case.reporter_salt)
        opened = cases.open_as_reporter(session, case, keys.private)
        cases.add_message(session, opened, author_kind="reporter", body="Bericht", day=case.received_on)
        cases.add_note(session, opened, handler_id, "Notitie")
        session.add(ReporterSession(case_id=case.id, wrapped_private_key=secrets.token_bytes(72),
                                    seen_on=case.received_on))
        if closed_days_ago is not None:
            case.closed_on = clock.today() - timedelta(days=closed_days_ago)
            case.status, case.outcome = "closed", "no_wrongdoing"
            session.flush()
            clock.recompute(session, case)
        if hold:
            retention.set_legal_hold(session, case, "Pending court case", handler_id)
        keys_stored = list(session.scalars(select(Attachment.storage_key).where(Attachment.case_id == case.id)))
        return Made(case.id, case.reference, keys_stored)


@dataclass(frozen=True)
class Left:
    """What a case has in the database and on disk."""

    content_rows: int
    files: int
    report_sealed: bytes | None
    receipt_hash: bytes
    purged_on: date | None
    milestones: dict[str, tuple[date, date | None]]
    purge_events: int


def _left(session: Session, storage_root: Path, made: Made) -> Left:
    case = session.get(Case, made.case_id, populate_existing=True)
    assert case is not None
    rows = sum(session.scalar(select(func.count()).select_from(model).where(model.case_id == made.case_id)) or 0
               for model in CONTENT)
    milestones = {m.kind: (m.due_on, m.done_on)
                  for m in session.scalars(select(Milestone).where(Milestone.case_id == made.case_id))}
    events = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.case_id == made.case_id, AuditEvent.action == "case_purged")) or 0
    files = sum(1 for key in made.storage_keys if storage_path(storage_root, key).exists())
    return Left(rows, files, case.report_sealed, case.receipt_hash, case.purged_on, milestones, events)


@contextmanager
def _counted_statements(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = db.engine_of(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_purging_several_cases_at_once_takes_exactly_the_due_ones(app: Flask, reader: str) -> None:
    storage = app.config["MELDKLUIS"].storage_path
    today = clock.today()
    first = _case(app, reader, "misstand", "fraude", closed_days_ago=500)  # due since 135 days
    due = [_case(app, reader, "misstand", "fraude", closed_days_ago=400),
           _case(app, reader, "misstand", "fraude", closed_days_ago=380),
           _case(app, reader, "omgangsvormen", "pesten", closed_days_ago=400)]  # another channel and policy
    kept = [_case(app, reader, "misstand", "fraude", closed_days_ago=100),  # within its retention period
            _case(app, reader, "misstand", "fraude", closed_days_ago=400, hold=True),  # due, but on legal hold
            _case(app, reader, "misstand", "fraude", closed_days_ago=None)]  # open
    with db.session_scope(app) as session:
        before = {made.case_id: _left(session, storage, made) for made in [first, *due, *kept]}
    assert all(left.content_rows == 6 and left.files == 1 for left in before.values())  # 2 participants

    runs: list[tuple[list[str], list[str]]] = []
    for day in (today - timedelta(days=100), today):  # the first case alone, then the three others at once
        with app.test_request_context(), db.session_scope(app) as session, _counted_statements(app) as statements:
            purged = retention.purge(session, storage, day)
        runs.append(([candidate.reference for candidate in purged], statements))
    assert runs[0][0] == [first.reference]
    assert sorted(runs[1][0]) == sorted(made.reference for made in due)
    # The statements of a run do not grow with the number of cases it purges (the milestones' UPDATE is one
    # statement run for many rows: an executemany).
    assert len(runs[0][1]) == len(runs[1][1])

    with db.session_scope(app) as session:
        after = {made.case_id: _left(session, storage, made) for made in [first, *due, *kept]}
    for made, day in [(first, today - timedelta(days=100)), *((made, today) for made in due)]:
        gone, was = after[made.case_id], before[made.case_id]
        assert (gone.content_rows, gone.files, gone.report_sealed, gone.purged_on) == (0, 0, None, day)
        assert gone.receipt_hash != was.receipt_hash and len(gone.receipt_hash) == 32
        assert gone.purge_events == 1
        # The retention review is done by the purge; every other milestone is as it was.
        assert gone.milestones == was.milestones | {"retention_review": (was.milestones["retention_review"][0], day)}
    for made in kept:
        assert after[made.case_id] == before[made.case_id]
    assert len({after[made.case_id].receipt_hash for made in [first, *due, *kept]}) == 7
    on_disk = {path.name for path in storage.rglob("*") if path.is_file()}
    assert on_disk == {key for made in kept for key in made.storage_keys}
