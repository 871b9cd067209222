"""The statutory clock: milestones computed from the channel's deadline policy (data, see defaults.py).

A policy's `rules` is a JSON list; each rule makes one milestone of a case:
  milestone        its kind (a-z, 0-9, _), unique within the policy
  trigger          received | acknowledged | meeting_requested | closed: the event that starts the clock
  months, days     the period after the trigger; days are added first, then months, so the Wbk fallback
                   "(receipt + 7 days) + 3 months" is written {"days": 7, "months": 3}
  fallback         {"trigger", "months", "days"}: a second start that also applies; the EARLIER date wins
                   (Wbk feedback: 3 months after the acknowledgement, or after the latest allowed one)
  done_by          events that fulfil it: acknowledged | feedback | meeting_held | closed | purged
  disclosure_risk  true: when the due date passes unmet, the reporter may be protected if they go public
                   (Directive art. 15(1)(a)); the case and the compliance view show a flag
  retention        true: the period is the channel's retention setting (months after closing)
  extensions       [{"slug", "days"}]: a handler may apply each once, with a reason that is audited
                   (Awb 9:11: an advisory committee adds 4 weeks; an extension adds 4 more)

Dates are calendar days in Europe/Amsterdam; months use relativedelta (31 Jan + 3 months = 30 Apr).
With `shift_to_working_day` a due date on a Saturday or Sunday moves to the Monday; public holidays
(Algemene termijnenwet) are not applied, because whether they apply is not settled (LAW.md).
A milestone is met when done_on <= due_on. Action dates always come from the server's clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Case, Channel, DeadlinePolicy, Milestone, open_deadline
from app.models.milestone import RETENTION_REVIEW

ZONE = ZoneInfo("Europe/Amsterdam")
TRIGGERS = ("received", "acknowledged", "meeting_requested", "closed")
EVENTS = ("acknowledged", "feedback", "meeting_held", "closed", "purged")
# When a stored rule names no `done_by`, the kind decides (keeps older data readable).
DEFAULT_DONE_BY: dict[str, tuple[str, ...]] = {
    "acknowledge": ("acknowledged",),
    "respond": ("acknowledged", "feedback"),
    "feedback": ("feedback",),
    "decide": ("feedback", "closed"),
    "meeting": ("meeting_held",),
    "retention_review": ("purged",),
}
# Which milestone kinds count as "acknowledgement" and "feedback" in the statistics (compliance view).
ACK_KINDS = ("acknowledge", "respond")
FEEDBACK_KINDS = ("feedback", "decide")
MAX_MONTHS = 120
MAX_DAYS = 3660
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_RULE_KEYS = {"milestone", "trigger", "months", "days", "fallback", "done_by", "disclosure_risk", "retention",
              "extensions"}


class ActionDateError(ValueError):
    """An action was offered with a date other than the server's today: back-dating is not possible."""


class PolicyError(ValueError):
    """A policy's rules are not valid; `problems` are messages for the admin, in their language."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid deadline policy")
        self.problems = problems


def now() -> datetime:
    """The current moment (UTC); the one place the clock reads the time, so tests can set it."""
    return datetime.now(UTC)


def today(moment: datetime | None = None) -> date:
    """The legal date: the current date in Europe/Amsterdam (not UTC: at 00:30 in Amsterdam it is
    already tomorrow). Every date a server action records (receipt, messages, files, acknowledgement,
    feedback, closing, purge) comes from here; there is deliberately no UTC "today" in the code base."""
    return (moment if moment is not None else now()).astimezone(ZONE).date()


@dataclass(frozen=True)
class Extension:
    slug: str
    days: int


@dataclass(frozen=True)
class Rule:
    milestone: str
    trigger: str
    months: int = 0
    days: int = 0
    fallback_trigger: str | None = None
    fallback_months: int = 0
    fallback_days: int = 0
    done_by: tuple[str, ...] = ()
    disclosure_risk: bool = False
    retention: bool = False
    extensions: tuple[Extension, ...] = ()

    def extension(self, slug: str) -> Extension | None:
        return next((e for e in self.extensions if e.slug == slug), None)


@dataclass(frozen=True)
class Planned:
    """A milestone as the policy says it should be (before it is stored)."""

    kind: str
    due_on: date
    triggered_on: date
    done_on: date | None


@dataclass
class _Problems:
    items: list[str] = field(default_factory=list)

    def add(self, number: int, text: Any) -> None:
        self.items.append(str(_l("Rule %(number)s: %(problem)s", number=number, problem=text)))


def _int(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def parse_rules(raw: Any) -> list[Rule]:
    """Validate a policy's rules (from JSON) into `Rule`s; raises PolicyError listing every problem."""
    problems = _Problems()
    if not isinstance(raw, list) or not raw:
        raise PolicyError([str(_l("The rules must be a non-empty list of milestones."))])
    rules: list[Rule] = []
    seen: set[str] = set()
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.add(number, _l("each rule must be an object with named values."))
            continue
        before = len(problems.items)
        unknown = sorted(set(item) - _RULE_KEYS)
        if unknown:
            problems.add(number, _l("unknown name(s): %(names)s.", names=", ".join(unknown)))
        kind = item.get("milestone")
        if not isinstance(kind, str) or not _KIND.match(kind):
            problems.add(number, _l("\"milestone\" must be a short name of lower-case letters, digits and _."))
            kind = ""
        elif kind in seen:
            problems.add(number, _l("the milestone \"%(kind)s\" appears twice.", kind=kind))
        seen.add(kind)
        trigger = item.get("trigger")
        if trigger not in TRIGGERS:
            problems.add(number, _l("\"trigger\" must be one of: %(choices)s.", choices=", ".join(TRIGGERS)))
        retention = item.get("retention", False)
        disclosure_risk = item.get("disclosure_risk", False)
        if not isinstance(retention, bool) or not isinstance(disclosure_risk, bool):
            problems.add(number, _l("\"retention\" and \"disclosure_risk\" must be true or false."))
        months = _int(item.get("months", 0), 0, MAX_MONTHS)
        days = _int(item.get("days", 0), 0, MAX_DAYS)
        if months is None or days is None:
            problems.add(number, _l("\"months\" (0-%(months)s) and \"days\" (0-%(days)s) must be whole numbers.",
                                    months=MAX_MONTHS, days=MAX_DAYS))
        elif retention is not True and months == 0 and days == 0:
            problems.add(number, _l("the period must be at least one day."))
        fallback = item.get("fallback")
        fb_trigger, fb_months, fb_days = None, 0, 0
        if fallback is not None:
            if not isinstance(fallback, dict) or set(fallback) - {"trigger", "months", "days"}:
                problems.add(number, _l("\"fallback\" must have only \"trigger\", \"months\" and \"days\"."))
            else:
                fb_trigger = fallback.get("trigger")
                fb_months_checked = _int(fallback.get("months", 0), 0, MAX_MONTHS)
                fb_days_checked = _int(fallback.get("days", 0), 0, MAX_DAYS)
                if fb_trigger not in TRIGGERS or fb_months_checked is None or fb_days_checked is None:
                    problems.add(number, _l("the fallback needs a valid trigger and whole months and days."))
                else:
                    fb_months, fb_days = fb_months_checked, fb_days_checked
        done_by = item.get("done_by", list(DEFAULT_DONE_BY.get(kind, ())))
        if not isinstance(done_by, list) or not done_by or any(event not in EVENTS for event in done_by):
            problems.add(number, _l("\"done_by\" must list one or more of: %(choices)s.", choices=", ".join(EVENTS)))
            done_by = []
        extensions: list[Extension] = []
        raw_extensions = item.get("extensions", [])
        if not isinstance(raw_extensions, list):
            raw_extensions = [None]
        for extension in raw_extensions:
            ext_days = _int(extension.get("days"), 1, MAX_DAYS) if isinstance(extension, dict) else None
            slug = extension.get("slug") if isinstance(extension, dict) else None
            if ext_days is None or not isinstance(slug, str) or not _KIND.match(slug) or set(extension) - {"slug", "days"}:
                problems.add(number, _l("each extension needs a short \"slug\" and a number of \"days\" (at least 1)."))
                continue
            extensions.append(Extension(slug, ext_days))
        if len(problems.items) == before:
            rules.append(Rule(
                milestone=kind, trigger=str(trigger), months=months or 0, days=days or 0,
                fallback_trigger=fb_trigger, fallback_months=fb_months, fallback_days=fb_days,
                done_by=tuple(done_by), disclosure_risk=disclosure_risk, retention=retention,
                extensions=tuple(extensions),
            ))
    if problems.items:
        raise PolicyError(problems.items)
    return rules


def add_period(start: date, months: int = 0, days: int = 0) -> date:
    """Calendar arithmetic: days first, then months (relativedelta clamps to the month's last day)."""
    return start + timedelta(days=days) + relativedelta(months=months)


def next_working_day(day: date) -> date:
    """Saturday and Sunday move to Monday; public holidays are deliberately not applied (not settled)."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def plan(
    rules: list[Rule],
    events: Mapping[str, date],
    *,
    retention_months: int,
    shift_to_working_day: bool,
    extensions: Mapping[str, list[str]] | None = None,
) -> dict[str, Planned]:
    """The milestones a policy gives for these events (pure: the table-driven tests call this)."""
    planned: dict[str, Planned] = {}
    for rule in rules:
        starts: list[tuple[date, date]] = []  # (due, trigger date)
        if rule.retention:
            if rule.trigger in events:
                start = events[rule.trigger]
                starts.append((add_period(start, retention_months, rule.days), start))
        else:
            if rule.trigger in events:
                start = events[rule.trigger]
                starts.append((add_period(start, rule.months, rule.days), start))
            if rule.fallback_trigger is not None and rule.fallback_trigger in events:
                start = events[rule.fallback_trigger]
                starts.append((add_period(start, rule.fallback_months, rule.fallback_days), start))
        if not starts:
            continue
        due, triggered = min(starts)
        for slug in (extensions or {}).get(rule.milestone, []):
            extension = rule.extension(slug)
            if extension is not None:
                due += timedelta(days=extension.days)
        if shift_to_working_day:
            due = next_working_day(due)
        done = [events[event] for event in rule.done_by if event in events]
        planned[rule.milestone] = Planned(rule.milestone, due, triggered, min(done) if done else None)
    return planned


def policy_rules(policy: DeadlinePolicy) -> list[Rule]:
    return parse_rules(policy.rules)


def _milestones(session: Session, case: Case) -> dict[str, Milestone]:
    return {m.kind: m for m in session.scalars(select(Milestone).where(Milestone.case_id == case.id))}


def _events(case: Case, milestones: Mapping[str, Milestone]) -> dict[str, date]:
    events: dict[str, date] = {"received": case.received_on}
    for name, value in (("acknowledged", case.acknowledged_on), ("feedback", case.feedback_on),
                        ("closed", case.closed_on), ("purged", case.purged_on)):
        if value is not None:
            events[name] = value
    meeting = milestones.get("meeting")
    if meeting is not None and meeting.triggered_on is not None:
        events["meeting_requested"] = meeting.triggered_on
        if meeting.done_on is not None:
            events["meeting_held"] = meeting.done_on
    return events


def recompute(session: Session, case: Case, **events: date) -> None:
    """(Re)compute the case's milestones from its channel's policy and what happened so far.

    Done milestones keep their done date; open milestones the policy no longer has are dropped
    (after a move to another channel), done ones stay as history.
    """
    _apply(session, case, _milestones(session, case), policy_rules(case.channel.policy), events)
    session.flush()


def recompute_cases(session: Session, cases: Sequence[Case]) -> None:
    """`recompute` for many cases at once (the nightly purge): their milestones are read in one query and the
    changes go to the database in one flush, so the statements do not grow with the number of cases."""
    stored: dict[str, dict[str, Milestone]] = {case.id: {} for case in cases}
    if not stored:
        return
    for milestone in session.scalars(select(Milestone).where(Milestone.case_id.in_(stored))):
        stored[milestone.case_id][milestone.kind] = milestone
    rules: dict[str, list[Rule]] = {}
    for case in cases:
        policy = case.channel.policy
        if policy.id not in rules:
            rules[policy.id] = policy_rules(policy)
        _apply(session, case, stored[case.id], rules[policy.id], {})
    session.flush()


def _apply(session: Session, case: Case, existing: Mapping[str, Milestone], rules: list[Rule],
           events: Mapping[str, date]) -> list[Milestone]:
    """Bring `existing` (the case's stored milestones) in line with the policy; returns the current ones."""
    known = _events(case, existing) | dict(events)
    policy = case.channel.policy
    planned = plan(
        rules, known, retention_months=case.channel.retention_months,
        shift_to_working_day=policy.shift_to_working_day,
        extensions={kind: list(m.extensions or []) for kind, m in existing.items()},
    )
    current: dict[str, Milestone] = {}
    for kind, item in planned.items():
        milestone = existing.get(kind)
        if milestone is None:
            milestone = Milestone(case_id=case.id, kind=kind, extensions=[], due_on=item.due_on)
            session.add(milestone)
        milestone.due_on = item.due_on
        milestone.triggered_on = item.triggered_on
        if milestone.done_on is None and item.done_on is not None:
            milestone.done_on = item.done_on
        current[kind] = milestone
    for kind, milestone in existing.items():
        if kind in planned:
            continue
        if milestone.done_on is None:
            session.delete(milestone)
        else:
            current[kind] = milestone
    milestones = list(current.values())
    _summarise(case, milestones)
    return milestones


def summarise(session: Session, case: Case) -> None:
    """Bring the case's milestone figures in step with its stored milestones (after a change made outside the
    clock, such as a repair)."""
    _summarise(case, list(_milestones(session, case).values()))


def out_of_step(session: Session) -> list[str]:
    """Ids of the cases whose nearest deadline (the inbox's order, `next_due_on`/`next_milestone`) is not the one
    their stored milestones give: changed by SQL outside the app. One statement over the cases."""
    deadlines = select(Milestone.due_on, Milestone.kind).where(Milestone.case_id == Case.id, open_deadline())
    nearest = deadlines.order_by(Milestone.due_on, Milestone.kind).limit(1)
    due = nearest.with_only_columns(Milestone.due_on).scalar_subquery()
    kind = nearest.with_only_columns(Milestone.kind).scalar_subquery()
    return list(session.scalars(select(Case.id).where(or_(
        and_(Case.closed_on.is_not(None), Case.next_due_on.is_not(None)),
        and_(Case.closed_on.is_(None),
             or_(Case.next_due_on.is_distinct_from(due), Case.next_milestone.is_distinct_from(kind))),
    ))))


def put_in_step(session: Session) -> int:
    """Recompute the nearest deadline of every case `out_of_step` finds (nightly, `meldkluis maintenance`)."""
    stale = out_of_step(session)
    for case in session.scalars(select(Case).where(Case.id.in_(stale))):
        summarise(session, case)
    session.flush()
    return len(stale)


def _summarise(case: Case, milestones: list[Milestone]) -> None:
    """Keep the case's milestone figures (see the Case model) in step with its milestones."""
    acknowledgements = [m for m in milestones if m.kind in ACK_KINDS]
    feedback = [m for m in milestones if m.kind in FEEDBACK_KINDS]
    case.acknowledgement_milestones = len(acknowledgements)
    case.acknowledgements_on_time = sum(1 for m in acknowledgements if milestone_met(m))
    case.feedback_milestones = len(feedback)
    case.feedback_on_time = sum(1 for m in feedback if milestone_met(m))
    nearest = nearest_deadline(milestones) if case.closed_on is None else None
    case.next_due_on, case.next_milestone = nearest if nearest is not None else (None, None)


def nearest_deadline(milestones: Iterable[Any]) -> tuple[date, str] | None:
    """(due date, kind) of the nearest open deadline among `milestones` (stored or planned), by date then kind;
    the retention review is no deadline. What the inbox orders an open case by."""
    return min(((m.due_on, m.kind) for m in milestones if m.done_on is None and m.kind != RETENTION_REVIEW),
               default=None)


def milestone_met(milestone: Milestone) -> bool:
    return milestone.done_on is not None and milestone.done_on <= milestone.due_on


def recorded_day(day: date) -> date:
    """The date an action is recorded on: always the server's today.

    `day` is what the caller believes today is; yesterday is tolerated (a caller using the UTC date
    just after midnight in Amsterdam), anything else is refused, and the server's date is recorded.
    """
    server = today()
    if not server - timedelta(days=1) <= day <= server:
        raise ActionDateError(f"action date {day.isoformat()} is not today ({server.isoformat()})")
    return server


def on_received(session: Session, case: Case) -> date | None:
    """Start the clock of a case just received; returns the date the reporter can expect to hear back.

    The case has no milestones yet, so none are read: they are planned, the case's milestone figures
    set, and one flush stores them (with the case itself when it is new in the session, so a new case is
    one INSERT, not an INSERT and an UPDATE).
    """
    rules = policy_rules(case.channel.policy)
    milestones = _apply(session, case, {}, rules, {})
    session.flush()
    return _reply_by(case, milestones, rules)


def on_acknowledged(session: Session, case: Case, day: date) -> None:
    recorded = recorded_day(day)
    if case.acknowledged_on is None:
        case.acknowledged_on = recorded
    recompute(session, case)


def on_feedback(session: Session, case: Case, day: date) -> None:
    recorded = recorded_day(day)
    if case.feedback_on is None:
        case.feedback_on = recorded
    recompute(session, case)


def on_meeting_requested(session: Session, case: Case, day: date) -> None:
    """The reporter asked for a meeting: a new request after a held meeting starts a new term."""
    recorded = recorded_day(day)
    meeting = _milestones(session, case).get("meeting")
    if meeting is not None:
        if meeting.done_on is None:
            return  # a request is already pending; its term runs from the first ask
        session.delete(meeting)
        session.flush()
    recompute(session, case, meeting_requested=recorded)


def on_meeting_held(session: Session, case: Case, day: date) -> None:
    mark_done(session, case, "meeting", day)


def on_closed(session: Session, case: Case, day: date) -> None:
    recorded = recorded_day(day)
    if case.closed_on is None:
        case.closed_on = recorded
    recompute(session, case)


def on_channel_moved(session: Session, case: Case, new_channel: Channel) -> None:
    """The case now follows another channel's policy, counted from the original receipt date."""
    case.channel_id = new_channel.id
    case.channel = new_channel
    recompute(session, case)


def mark_done(session: Session, case: Case, kind: str, day: date) -> None:
    recorded = recorded_day(day)
    milestones = _milestones(session, case)
    milestone = milestones.get(kind)
    if milestone is not None and milestone.done_on is None:
        milestone.done_on = recorded
        _summarise(case, list(milestones.values()))
        session.flush()


class ExtensionError(ValueError):
    """The extension cannot be applied; `message` says why, in the user's language."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def extend(session: Session, case: Case, kind: str, slug: str, reason: str, user_id: str | None) -> Milestone:
    """Apply one of the rule's extensions (once), moving the due date; the reason goes to the audit trail.

    The reason is the handler's justification for the record (e.g. "advisory committee"); it must not
    repeat the report's content.
    """
    reason = reason.strip()
    if not reason:
        raise ExtensionError(_l("Give a reason for the extension."))
    if len(reason) > 200:
        raise ExtensionError(_l("Keep the reason under 200 characters."))
    rule = next((r for r in policy_rules(case.channel.policy) if r.milestone == kind), None)
    milestone = _milestones(session, case).get(kind)
    if rule is None or milestone is None or rule.extension(slug) is None:
        raise ExtensionError(_l("This milestone cannot be extended."))
    if milestone.done_on is not None:
        raise ExtensionError(_l("This milestone is already done."))
    if slug in (milestone.extensions or []):
        raise ExtensionError(_l("This extension was already applied."))
    old_due = milestone.due_on
    milestone.extensions = [*(milestone.extensions or []), slug]
    recompute(session, case)
    session.add(AuditEvent(user_id=user_id, case_id=case.id, action="milestone_extended",
                           detail=f"{kind} {slug} {old_due.isoformat()}->{milestone.due_on.isoformat()}: {reason}"))
    session.flush()
    return milestone


def _reply_by(case: Case, milestones: Iterable[Milestone], rules: list[Rule]) -> date | None:
    """The earliest open milestone owed to the reporter (the retention review is not for them)."""
    if case.closed_on is not None or case.purged_on is not None:
        return None
    kinds = {rule.milestone for rule in rules if not rule.retention}
    dues = [m.due_on for m in milestones if m.done_on is None and m.kind in kinds]
    return min(dues) if dues else None


def next_promised_date(session: Session, case: Case) -> date | None:
    """The next date the reporter can expect to hear back: the earliest open milestone owed to them."""
    if case.closed_on is not None or case.purged_on is not None:
        return None
    return _reply_by(case, _milestones(session, case).values(), policy_rules(case.channel.policy))


def risky_kinds(policy: DeadlinePolicy) -> set[str]:
    return {rule.milestone for rule in policy_rules(policy) if rule.disclosure_risk}


def milestone_at_risk(milestone: Milestone, on: date) -> bool:
    """The due date passed without the action being recorded by then."""
    return milestone.due_on < on and not milestone_met(milestone)


def disclosure_risk(session: Session, case: Case, today: date, milestones: Iterable[Milestone] | None = None) -> bool:
    """Wbk: the feedback date passed without feedback, so a public disclosure may be protected.

    `milestones`: the case's milestones if the caller has read them already (the case page shows them too).
    """
    kinds = risky_kinds(case.channel.policy)
    found = _milestones(session, case).values() if milestones is None else milestones
    return any(milestone_at_risk(m, today) for m in found if m.kind in kinds)
