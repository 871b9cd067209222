"""`meldkluis deadlines`: open milestones due soon or overdue, and content-free reminder mails.

Each milestone gets one reminder per threshold ("3-days" before, "due" on the day, "overdue"), recorded
in ReminderSent, so the command can run from cron as often as it likes. A handler's mail says only how
many deadlines need attention (no reference, channel, category or date); compliance officers get the
counts. A failed send records nothing for that handler, so the next run tries again.
"""

from __future__ import annotations

import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Case, Channel, Milestone, Participant, ReminderSent, User
from app.services.notify import send_mail

SOON_THRESHOLD_DAYS = 3
RETENTION_KIND = "retention_review"


def threshold(days_left: int) -> str | None:
    if days_left < 0:
        return "overdue"
    if days_left == 0:
        return "due"
    if days_left <= SOON_THRESHOLD_DAYS:
        return "3-days"
    return None


@dataclass(frozen=True)
class DueMilestone:
    milestone_id: str
    case_id: str
    reference: str
    channel: str
    kind: str
    due_on: date
    days_left: int

    @property
    def threshold(self) -> str | None:
        return threshold(self.days_left)


@dataclass
class DeadlineRun:
    items: list[DueMilestone]
    handler_mails: int = 0
    summary_mails: int = 0
    new_reminders: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.items if item.days_left < 0)


def due_milestones(session: Session, on: date, within_days: int) -> list[DueMilestone]:
    """Open milestones of open cases that are overdue or due within `within_days` (nearest first)."""
    query = (
        select(Milestone, Case.reference, Channel.slug)
        .join(Case, Case.id == Milestone.case_id)
        .join(Channel, Channel.id == Case.channel_id)
        # From the open cases with a deadline by then (ix_case_next_due; the clock keeps each open case's
        # nearest one), not from every undone milestone: closed cases keep the ones they missed, for years.
        .where(Case.next_due_on <= on + timedelta(days=within_days),
               Milestone.done_on.is_(None), Milestone.kind != RETENTION_KIND, Case.closed_on.is_(None),
               Case.purged_on.is_(None), Milestone.due_on <= on + timedelta(days=within_days))
        .order_by(Milestone.due_on, Case.reference)
    )
    return [
        DueMilestone(m.id, m.case_id, reference, slug, m.kind, m.due_on, (m.due_on - on).days)
        for m, reference, slug in session.execute(query)
    ]


def _handler_mail(settings: Settings, count: int) -> tuple[str, str]:
    subject = "Termijnen in Meldkluis / Deadlines in Meldkluis"
    body = (
        f"{count} termijn(en) in Meldkluis vragen uw aandacht. Log in om te zien welke:\n"
        f"{settings.base_url}/nl/handler/login\n\n"
        f"{count} deadline(s) need attention in Meldkluis. Log in to see which:\n"
        f"{settings.base_url}/en/handler/login\n"
    )
    return subject, body


def _summary_mail(settings: Settings, overdue: int, due_today: int, soon: int) -> tuple[str, str]:
    subject = "Overzicht termijnen Meldkluis / Meldkluis deadline summary"
    body = (
        f"Verlopen: {overdue}\nVandaag: {due_today}\nBinnen {SOON_THRESHOLD_DAYS} dagen: {soon}\n"
        f"{settings.base_url}/nl/compliance/\n\n"
        f"Overdue: {overdue}\nDue today: {due_today}\nDue within {SOON_THRESHOLD_DAYS} days: {soon}\n"
        f"{settings.base_url}/en/compliance/\n"
    )
    return subject, body


def run_deadlines(session: Session, settings: Settings, on: date, within_days: int, *, send: bool) -> DeadlineRun:
    """List what is due; with `send`, mail the reminders not sent before and record them."""
    items = due_milestones(session, on, max(within_days, SOON_THRESHOLD_DAYS))
    listed = [item for item in items if item.days_left <= within_days]
    run = DeadlineRun(listed)
    if not send or not settings.smtp_host:
        return run
    pending = [item for item in items if item.threshold is not None]
    already = {
        (milestone_id, name) for milestone_id, name in session.execute(
            select(ReminderSent.milestone_id, ReminderSent.threshold)
            .where(ReminderSent.milestone_id.in_([item.milestone_id for item in pending])))
    } if pending else set()
    new = [item for item in pending if (item.milestone_id, item.threshold) not in already]
    if not new:
        return run
    handlers_of: dict[str, set[str]] = defaultdict(set)
    for case_id, user_id in session.execute(
        select(Participant.case_id, Participant.user_id)
        .where(Participant.case_id.in_({item.case_id for item in new}), Participant.user_id.is_not(None))
    ):
        handlers_of[case_id].add(user_id)
    per_user: dict[str, int] = defaultdict(int)
    for item in new:
        for user_id in handlers_of[item.case_id]:
            per_user[user_id] += 1
    failed: set[str] = set()
    for user_id, count in sorted(per_user.items()):
        user = session.get(User, user_id)
        if user is None or not user.active or not user.email:
            continue
        try:
            send_mail(settings, user.email, *_handler_mail(settings, count))
            run.handler_mails += 1
        except (OSError, smtplib.SMTPException):
            failed.add(user_id)
            run.failures.append(user.username)
    for item in new:
        if not handlers_of[item.case_id] & failed:
            session.add(ReminderSent(milestone_id=item.milestone_id, threshold=item.threshold, sent_on=on))
            run.new_reminders += 1
    session.flush()
    counts = (
        sum(1 for item in items if item.days_left < 0),
        sum(1 for item in items if item.days_left == 0),
        sum(1 for item in items if 0 < item.days_left <= SOON_THRESHOLD_DAYS),
    )
    officers = session.scalars(select(User).where(User.is_compliance.is_(True), User.active.is_(True)))
    for officer in officers:
        if not officer.email:
            continue
        try:
            send_mail(settings, officer.email, *_summary_mail(settings, *counts))
            run.summary_mails += 1
        except (OSError, smtplib.SMTPException):
            run.failures.append(officer.username)
    return run
