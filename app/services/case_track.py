"""The case's track: moving it to another channel, extending a deadline, a channel's deadline policy.

LAW.md: a case that moves between tracks (a klacht that turns out to be a Wbk melding) follows the new
policy counted from the ORIGINAL receipt date; Awb 9:11 allows a committee referral or an extension,
each once and with a reason. Each change is audited and told to the reporter in their mailbox (a sealed
message, so the reason, which is the handler's own words, is never stored in plaintext outside the audit
line that records it). Used by the case page, the admin pages and the command line alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Case, Channel, DeadlinePolicy, Milestone, User
from app.services import cases, clock
from app.services.cases import OpenCase

MAX_REASON = 200


class TrackRefused(ValueError):
    """The change cannot be made; the message is safe to show (in the user's language)."""


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise TrackRefused(str(_l("Give a reason.")))
    if len(reason) > MAX_REASON:
        raise TrackRefused(str(_l("Keep the reason under %(n)s characters.", n=MAX_REASON)))
    return reason


def _tell_reporter(session: Session, opened: OpenCase, user_id: str | None, body: str, kind: str,
                   day: date) -> None:
    cases.add_message(session, opened, author_kind="handler", body=body, day=day, kind=kind, author_user_id=user_id)


def _promise(session: Session, case: Case) -> str:
    promised = clock.next_promised_date(session, case)
    if promised is None:
        return ""
    return " " + str(_l("We will get back to you by %(date)s at the latest.", date=format_date(promised, "long")))


def move_case(session: Session, opened: OpenCase, user_id: str | None, channel_slug: str, reason: str,
              day: date) -> Channel:
    """Move an open case to another active channel; its clock follows that channel's policy from the
    original receipt. The category is kept when the new channel has it, else becomes "anders" (other)."""
    case = opened.case
    if case.closed_on is not None or case.purged_on is not None:
        raise TrackRefused(str(_l("This case is closed.")))
    reason = _reason(reason)
    target = session.scalar(select(Channel).where(Channel.slug == channel_slug, Channel.active.is_(True)))
    if target is None or target.id == case.channel_id:
        raise TrackRefused(str(_l("Choose another channel.")))
    old = case.channel
    slugs = {c["slug"] for c in target.categories}
    if case.category not in slugs and "anders" in slugs:
        case.category = "anders"
    recorded = clock.recorded_day(day)
    clock.on_channel_moved(session, case, target)
    body = str(_l("Your report is now handled as \"%(channel)s\". The deadlines of that procedure count from the "
                  "day we received your report.", channel=target.name(str(get_locale() or "nl"))))
    body += _promise(session, case) + "\n\n" + str(_l("Reason: %(reason)s", reason=reason))
    _tell_reporter(session, opened, user_id, body, "channel_moved", recorded)
    session.add(AuditEvent(user_id=user_id, case_id=case.id, action="case_moved",
                           detail=f"{old.slug}->{target.slug}: {reason}"[:255]))
    session.flush()
    return target


def extensions_available(session: Session, case: Case,
                         case_milestones: Iterable[Milestone] | None = None) -> list[tuple[Milestone, str, int]]:
    """(milestone, extension slug, days) the case's policy still allows (open milestones, not yet applied).

    `case_milestones`: the case's milestones if the caller has read them already (the case page shows them too).
    """
    if case.closed_on is not None:
        return []
    if case_milestones is None:
        case_milestones = session.scalars(select(Milestone).where(Milestone.case_id == case.id))
    milestones = {m.kind: m for m in case_milestones}
    found = []
    for rule in clock.policy_rules(case.channel.policy):
        milestone = milestones.get(rule.milestone)
        if milestone is None or milestone.done_on is not None:
            continue
        found += [(milestone, e.slug, e.days) for e in rule.extensions if e.slug not in (milestone.extensions or [])]
    return found


EXTENSION_LABELS = {"committee": _l("referral to an advisory committee"), "extension": _l("extension")}


def extend_deadline(session: Session, opened: OpenCase, user_id: str | None, kind: str, slug: str, reason: str,
                    day: date) -> Milestone:
    """Apply a policy's extension (Awb 9:11: committee +4 weeks, extension +4 weeks), audited by the clock,
    and tell the reporter the new date."""
    case = opened.case
    if case.closed_on is not None:
        raise TrackRefused(str(_l("This case is closed.")))
    recorded = clock.recorded_day(day)
    try:
        milestone = clock.extend(session, case, kind, slug, _reason(reason), user_id)
    except clock.ExtensionError as error:
        raise TrackRefused(str(error.message)) from error
    label = EXTENSION_LABELS.get(slug, slug)
    body = str(_l("We need more time to handle your report (%(what)s). The new date is %(date)s.",
                  what=label, date=format_date(milestone.due_on, "long")))
    body += "\n\n" + str(_l("Reason: %(reason)s", reason=reason.strip()))
    _tell_reporter(session, opened, user_id, body, "deadline_extended", recorded)
    session.flush()
    return milestone


def set_channel_policy(session: Session, user_id: str | None, channel: Channel, policy_slug: str) -> None:
    """Give a channel another deadline policy; its open cases follow it from their original receipt."""
    policy = session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.slug == policy_slug))
    if policy is None:
        raise TrackRefused(str(_l("Choose a deadline policy.")))
    if policy.id == channel.policy_id:
        return
    old = channel.policy.slug
    channel.policy_id = policy.id
    channel.policy = policy
    for case in session.scalars(select(Case).where(Case.channel_id == channel.id, Case.closed_on.is_(None),
                                                   Case.purged_on.is_(None))):
        clock.recompute(session, case)
    session.add(AuditEvent(user_id=user_id, case_id=None, action="channel_policy_changed",
                           detail=f"{channel.slug}: {old}->{policy.slug}"))
    session.flush()


def staff_user(session: Session, username: str) -> User | None:
    """An active handler by user name (for the command line)."""
    return session.scalar(select(User).where(User.username == username, User.active.is_(True),
                                             User.is_handler.is_(True)))


def promised_dates(channel: Channel, on: date) -> list[tuple[str, date]]:
    """(milestone kind, due date) the channel's policy sets for a report received and acknowledged on `on`:
    what an acknowledgement text sent that day promises (the retention review is not for the reporter)."""
    rules = [rule for rule in clock.policy_rules(channel.policy) if not rule.retention]
    planned = clock.plan(rules, {"received": on, "acknowledged": on}, retention_months=channel.retention_months,
                         shift_to_working_day=channel.policy.shift_to_working_day)
    return [(kind, item.due_on) for kind, item in planned.items()]
