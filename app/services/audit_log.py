"""The audit log as admins read it: staff actions filtered by person, action and date, on screen or as CSV.

Only staff actions are in the audit trail (app/models/audit.py): nothing a reporter does is recorded with a
time, so this page cannot date a reporter. Case content never reaches an audit line; reasons that handlers
give (legal hold, extension, move) are their own words about the procedure.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Case, User
from app.services import clock
from app.services.compliance import csv_cell

PAGE_SIZE = 200


@dataclass(frozen=True)
class AuditFilter:
    user_id: str = ""
    action: str = ""
    since: date | None = None  # Europe/Amsterdam days, inclusive
    until: date | None = None


@dataclass(frozen=True)
class AuditRow:
    at: datetime  # in Europe/Amsterdam
    person: str
    action: str
    case_reference: str
    detail: str


def _query(wanted: AuditFilter) -> Select[tuple[AuditEvent, str | None, str | None]]:
    query = (select(AuditEvent, User.display_name, Case.reference)
             .outerjoin(User, User.id == AuditEvent.user_id).outerjoin(Case, Case.id == AuditEvent.case_id)
             .order_by(AuditEvent.at.desc(), AuditEvent.id))
    if wanted.user_id:
        query = query.where(AuditEvent.user_id == wanted.user_id)
    if wanted.action:
        query = query.where(AuditEvent.action == wanted.action)
    if wanted.since is not None:
        query = query.where(AuditEvent.at >= datetime.combine(wanted.since, time(), clock.ZONE))
    if wanted.until is not None:
        query = query.where(AuditEvent.at < datetime.combine(wanted.until + timedelta(days=1), time(), clock.ZONE))
    return query


def rows(session: Session, wanted: AuditFilter, limit: int | None = PAGE_SIZE) -> list[AuditRow]:
    """The newest matching events first; `limit` None for all (the CSV export)."""
    query = _query(wanted) if limit is None else _query(wanted).limit(limit)
    return [AuditRow(event.at.astimezone(clock.ZONE), name or _("the system"), event.action, reference or "",
                     event.detail) for event, name, reference in session.execute(query)]


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def as_csv(found: list[AuditRow], delimiter: str) -> Iterator[str]:
    """The rows as CSV (UTF-8 with a byte-order mark), formula-safe like the register."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow([_("Time"), _("Person"), _("Action"), _("Case"), _("Detail")])
    yield "\ufeff" + buffer.getvalue()
    for row in found:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(row.at.strftime("%Y-%m-%d %H:%M")), csv_cell(row.person), csv_cell(row.action),
                         csv_cell(row.case_reference), csv_cell(row.detail)])
        yield buffer.getvalue()
