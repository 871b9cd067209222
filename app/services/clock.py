"""The statutory clock: milestones computed from the channel's deadline policy (data, see defaults.py).

Calendar arithmetic on days in Europe/Amsterdam with relativedelta (31 Jan + 3 months = 30 Apr).
A milestone is met when its action is recorded on or before its due date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, Milestone

TRIGGERS = ("received", "acknowledged", "meeting_requested", "closed")


def add_period(start: date, rule: dict[str, Any]) -> date:
    return start + relativedelta(months=int(rule.get("months", 0)), days=int(rule.get("days", 0)))


def _trigger_dates(case: Case, extra: dict[str, date]) -> dict[str, date]:
    dates = {"received": case.received_on}
    if case.acknowledged_on is not None:
        dates["acknowledged"] = case.acknowledged_on
    if case.closed_on is not None:
        dates["closed"] = case.closed_on
    dates.update(extra)
    return dates


def recompute(session: Session, case: Case, **events: date) -> None:
    """(Re)compute the case's milestones from its channel's policy and the events that happened."""
    existing = {m.kind: m for m in session.scalars(select(Milestone).where(Milestone.case_id == case.id))}
    meeting = existing.get("meeting")
    extra = dict(events)
    if "meeting_requested" not in extra and meeting is not None:
        extra["meeting_requested"] = meeting.due_on  # kept as is below
    triggers = _trigger_dates(case, extra)
    for rule in case.channel.policy.rules:
        kind = rule["milestone"]
        if rule.get("retention"):
            if "closed" not in triggers:
                continue
            due = triggers["closed"] + relativedelta(months=case.channel.retention_months)
        else:
            candidates: list[date] = []
            if rule["trigger"] in triggers:
                candidates.append(add_period(triggers[rule["trigger"]], rule))
            fallback = rule.get("fallback")
            if fallback and fallback["trigger"] in triggers:
                candidates.append(add_period(triggers[fallback["trigger"]], fallback))
            if not candidates:
                continue
            if kind == "meeting" and meeting is not None and "meeting_requested" not in events:
                continue
            due = min(candidates)
        milestone = existing.get(kind)
        if milestone is None:
            session.add(Milestone(case_id=case.id, kind=kind, due_on=due))
        else:
            milestone.due_on = due
    session.flush()


def mark_done(session: Session, case: Case, kind: str, day: date) -> None:
    milestone = session.scalar(select(Milestone).where(Milestone.case_id == case.id, Milestone.kind == kind))
    if milestone is not None and milestone.done_on is None:
        milestone.done_on = day
        session.flush()


def on_received(session: Session, case: Case) -> None:
    recompute(session, case)


def next_promised_date(session: Session, case: Case) -> date | None:
    """The next date the reporter can expect to hear back: the earliest open milestone owed to them."""
    open_due = session.scalars(
        select(Milestone.due_on)
        .where(Milestone.case_id == case.id, Milestone.done_on.is_(None), Milestone.kind != "retention_review")
        .order_by(Milestone.due_on)
    ).first()
    return open_due
