"""Retention: after closing plus the channel's retention period, a case's content and keys are destroyed.

What goes: the report, identity, messages, notes, attachments (files and rows), every wrapped case key
(so no backup of a handler's or reporter's key opens what remains), the reporter's credentials and
sessions. What stays: the register row (channel, category, dates, milestones, status, outcome). A case
on legal hold is never purged. SQLite runs with secure_delete, so freed pages are overwritten.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import case as sql_case
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.models import (
    Attachment,
    AuditEvent,
    Case,
    Channel,
    Message,
    Note,
    Participant,
    ReporterSession,
)
from app.services import clock
from app.services.storage import delete_stored_file

# closed_on + N months <= on implies closed_on <= on - N months + 3 days (a month-end clamps by at most 3 days).
MONTH_END_SLACK_DAYS = 3
# Cases purged per round of statements: about 1,500 bound parameters (SQLite allows 32,766), and a round's
# files are removed before the next round starts.
PURGE_BATCH = 500


class LegalHoldError(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class PurgeCandidate:
    case_id: str
    reference: str
    closed_on: date
    purge_after: date


def purge_due_on(case: Case) -> date | None:
    """The first day the case may be purged (None while it is open)."""
    if case.closed_on is None:
        return None
    return case.closed_on + relativedelta(months=case.channel.retention_months)


def purge_candidates(session: Session, on: date) -> list[PurgeCandidate]:
    """Closed, not yet purged, not on legal hold, and past closed_on + the channel's retention months.

    The nightly run reads only the cases near or past their date, not every closed case of the retention
    period: per channel, SQL keeps those closed up to `on` minus the retention months plus a few days
    (month arithmetic is not invertible at month ends: 31 January + 1 month = 28 February), and the exact
    `purge_due_on` rule then decides.
    """
    found: list[PurgeCandidate] = []
    for channel in session.scalars(select(Channel)):
        latest_closing = on - relativedelta(months=channel.retention_months) + timedelta(days=MONTH_END_SLACK_DAYS)
        rows = session.execute(
            select(Case.id, Case.reference, Case.closed_on)
            .where(Case.channel_id == channel.id, Case.closed_on.is_not(None), Case.closed_on <= latest_closing,
                   Case.purged_on.is_(None), Case.legal_hold.is_(False))
        )
        for case_id, reference, closed_on in rows:
            after = closed_on + relativedelta(months=channel.retention_months)
            if after <= on:
                found.append(PurgeCandidate(case_id, reference, closed_on, after))
    found.sort(key=lambda candidate: (candidate.closed_on, candidate.reference))
    return found


def purge_case(session: Session, storage_root: Path, case: Case, on: date) -> None:
    """Destroy the case's content and keys; keep the register row."""
    if case.legal_hold:
        raise LegalHoldError(_l("This case is on legal hold."))
    _purge_cases(session, storage_root, [case.id], on)


def purge(session: Session, storage_root: Path, on: date, *, dry_run: bool = False) -> list[PurgeCandidate]:
    """Purge every case past its retention period, `PURGE_BATCH` cases per round of statements.

    Returns the cases purged: a candidate put on legal hold (or purged) by someone else since it was listed
    is left as it is.
    """
    candidates = purge_candidates(session, on)
    if dry_run:
        return candidates
    purged: set[str] = set()
    for start in range(0, len(candidates), PURGE_BATCH):
        batch = candidates[start:start + PURGE_BATCH]
        purged |= _purge_cases(session, storage_root, [candidate.case_id for candidate in batch], on)
    return [candidate for candidate in candidates if candidate.case_id in purged]


def _purge_cases(session: Session, storage_root: Path, case_ids: list[str], on: date) -> set[str]:
    """Destroy the content and keys of these cases in a fixed number of statements; returns the ones purged.

    The UPDATE that marks the cases purged is also the legal-hold check: a case held (or purged) since it was
    read is left untouched. The files go after the rows are deleted and before the commit, as they always
    did: rows without files can be left by a failed commit (the next run purges the case, it is due), never
    files without keys; `meldkluis gc` keeps every file whose row it still sees.
    """
    # The receipt code's hash must stay unique: replace it by random bytes that match no receipt code.
    receipt_hashes = {case_id: secrets.token_bytes(32) for case_id in case_ids}
    purged = set(session.scalars(
        update(Case)
        .where(Case.id.in_(case_ids), Case.legal_hold.is_(False), Case.purged_on.is_(None))
        .values(report_sealed=None, identity_sealed=None, receipt_hash=sql_case(receipt_hashes, value=Case.id),
                reporter_public_key=b"", reporter_salt=b"", reporter_auth_digest=b"", purged_on=on)
        .returning(Case.id)
        .execution_options(synchronize_session=False)
    ))
    if not purged:
        return purged
    storage_keys = list(session.scalars(select(Attachment.storage_key).where(Attachment.case_id.in_(purged))))
    for table in (Attachment, Message, Note, Participant, ReporterSession):
        session.execute(delete(table).where(table.case_id.in_(purged)))  # type: ignore[attr-defined]
    # The purge is an event of the clock (the retention review is done by it): recomputed from fresh rows.
    cases = list(session.scalars(select(Case).where(Case.id.in_(purged)).execution_options(populate_existing=True)))
    session.add_all(AuditEvent(user_id=None, case_id=case.id, action="case_purged", detail="") for case in cases)
    clock.recompute_cases(session, cases)
    for key in storage_keys:
        delete_stored_file(storage_root, key)
    return purged


def set_legal_hold(session: Session, case: Case, reason: str, user_id: str | None) -> None:
    """Keep a case from being purged (e.g. pending proceedings); the reason is shown to compliance."""
    reason = reason.strip()
    if not reason:
        raise LegalHoldError(_l("Give a reason for the legal hold."))
    if len(reason) > 200:
        raise LegalHoldError(_l("Keep the reason under 200 characters."))
    if case.purged_on is not None:
        raise LegalHoldError(_l("This case was already purged."))
    case.legal_hold = True
    case.legal_hold_reason = reason
    session.add(AuditEvent(user_id=user_id, case_id=case.id, action="legal_hold_set", detail=reason))
    session.flush()


def clear_legal_hold(session: Session, case: Case, reason: str, user_id: str | None) -> None:
    reason = reason.strip()
    if not reason:
        raise LegalHoldError(_l("Give a reason for lifting the legal hold."))
    if not case.legal_hold:
        raise LegalHoldError(_l("This case is not on legal hold."))
    case.legal_hold = False
    case.legal_hold_reason = None
    session.add(AuditEvent(user_id=user_id, case_id=case.id, action="legal_hold_cleared", detail=reason[:200]))
    session.flush()

