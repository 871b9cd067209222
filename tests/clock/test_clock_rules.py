"""LAW.md's table, row by row, on the pure planner and on stored cases (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Case, Channel, DeadlinePolicy, Milestone
from app.services import clock
from app.services.defaults import BUILTIN_POLICIES

D = date


def rules_of(slug: str) -> list[clock.Rule]:
    return clock.parse_rules(next(p["rules"] for p in BUILTIN_POLICIES if p["slug"] == slug))


def due(slug: str, kind: str, events: dict[str, date], *, shift: bool = False, retention: int = 12,
        extensions: dict[str, list[str]] | None = None) -> date | None:
    planned = clock.plan(rules_of(slug), events, retention_months=retention, shift_to_working_day=shift,
                         extensions=extensions)
    return planned[kind].due_on if kind in planned else None


# (policy, milestone, events, expected due date, LAW.md row / edge)
TABLE = [
    ("wbk", "acknowledge", {"received": D(2025, 3, 3)}, D(2025, 3, 10), "wbk acknowledge: receipt + 7 days"),
    ("wbk", "acknowledge", {"received": D(2024, 12, 28)}, D(2025, 1, 4), "acknowledge across the year end"),
    ("wbk", "feedback", {"received": D(2025, 1, 1), "acknowledged": D(2025, 1, 31)}, D(2025, 4, 8),
     "acknowledged 31 Jan but received 1 Jan: the fallback (8 Jan + 3 months) is earlier than 30 Apr"),
    ("wbk", "feedback", {"received": D(2025, 1, 28), "acknowledged": D(2025, 1, 31)}, D(2025, 4, 30),
     "31 Jan + 3 months = 30 Apr"),
    ("wbk", "feedback", {"received": D(2023, 11, 27), "acknowledged": D(2023, 11, 30)}, D(2024, 2, 29),
     "30 Nov + 3 months = 29 Feb in a leap year"),
    ("wbk", "feedback", {"received": D(2024, 11, 27), "acknowledged": D(2024, 11, 30)}, D(2025, 2, 28),
     "30 Nov + 3 months = 28 Feb"),
    ("wbk", "feedback", {"received": D(2024, 2, 27), "acknowledged": D(2024, 2, 29)}, D(2024, 5, 29),
     "29 Feb + 3 months = 29 May"),
    ("wbk", "feedback", {"received": D(2025, 1, 24)}, D(2025, 4, 30),
     "no acknowledgement: (24 Jan + 7 days) + 3 months = 30 Apr (not 24 Apr + 7 = 1 May)"),
    ("wbk", "feedback", {"received": D(2025, 3, 1)}, D(2025, 6, 8), "no acknowledgement: receipt + 7 days + 3 months"),
    ("wbk", "feedback", {"received": D(2025, 3, 1), "acknowledged": D(2025, 3, 4)}, D(2025, 6, 4),
     "both apply, acknowledgement in time: acknowledgement + 3 months is earlier"),
    ("wbk", "feedback", {"received": D(2025, 3, 1), "acknowledged": D(2025, 3, 20)}, D(2025, 6, 8),
     "both apply, late acknowledgement: the fallback is earlier and wins"),
    ("wbk", "meeting", {"received": D(2025, 3, 1), "meeting_requested": D(2025, 3, 5)}, D(2025, 3, 19),
     "wbk meeting: request + 14 days (setting)"),
    ("wbk", "meeting", {"received": D(2025, 3, 1)}, None, "no meeting milestone without a request"),
    ("bestuursdecreet", "acknowledge", {"received": D(2025, 5, 26)}, D(2025, 6, 2), "bestuursdecreet: 7 calendar days"),
    ("bestuursdecreet", "feedback", {"received": D(2025, 5, 26), "acknowledged": D(2025, 5, 31)}, D(2025, 8, 31),
     "bestuursdecreet: acknowledgement + 3 months"),
    ("be-private", "acknowledge", {"received": D(2025, 2, 25)}, D(2025, 3, 4), "be-private: 7 days over month end"),
    ("be-private", "feedback", {"received": D(2025, 2, 25), "acknowledged": D(2025, 2, 28)}, D(2025, 5, 28),
     "be-private: acknowledgement + 3 months"),
    ("klachtenregeling-2w", "respond", {"received": D(2025, 3, 3)}, D(2025, 3, 17), "klachtenregeling: 14 days"),
    ("awb-9", "decide", {"received": D(2025, 3, 3)}, D(2025, 4, 14), "awb-9: 6 weeks"),
    ("wbk", "retention_review", {"received": D(2025, 1, 1), "closed": D(2025, 1, 31)}, D(2026, 1, 31),
     "retention review: closed + 12 months"),
    ("klachtenregeling-2w", "retention_review", {"received": D(2023, 1, 1), "closed": D(2023, 2, 28)},
     D(2024, 2, 28), "retention review for every policy"),
    ("wbk", "retention_review", {"received": D(2025, 1, 1)}, None, "no retention review while open"),
]


@pytest.mark.parametrize(("slug", "kind", "events", "expected", "row"), TABLE, ids=[row[4] for row in TABLE])
def test_law_table(slug: str, kind: str, events: dict[str, date], expected: date | None, row: str) -> None:
    assert due(slug, kind, events) == expected


def test_awb_committee_and_extension_add_four_weeks_each() -> None:
    events = {"received": D(2025, 3, 3)}
    assert due("awb-9", "decide", events, extensions={"decide": ["committee"]}) == D(2025, 5, 12)  # 10 weeks
    assert due("awb-9", "decide", events, extensions={"decide": ["committee", "extension"]}) == D(2025, 6, 9)


def test_retention_follows_the_channel_setting() -> None:
    assert due("wbk", "retention_review", {"received": D(2025, 1, 1), "closed": D(2025, 8, 31)}, retention=6) == D(
        2026, 2, 28)


def test_weekend_setting_moves_to_monday_only_when_on() -> None:
    events = {"received": D(2025, 3, 1)}  # Saturday; + 7 days = Saturday 8 March
    assert due("wbk", "acknowledge", events) == D(2025, 3, 8)
    assert due("wbk", "acknowledge", events, shift=True) == D(2025, 3, 10)
    sunday = {"received": D(2025, 3, 2)}
    assert due("wbk", "acknowledge", sunday, shift=True) == D(2025, 3, 10)
    weekday = {"received": D(2025, 3, 4)}
    assert due("wbk", "acknowledge", weekday, shift=True) == D(2025, 3, 11)
    # Public holidays are not applied: King's Day 2025 (Saturday 26 Apr) moves to Monday 28 Apr only as a weekend.
    assert clock.next_working_day(D(2025, 12, 25)) == D(2025, 12, 25)


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2025, 3, 29, 23, 30, tzinfo=UTC), D(2025, 3, 30)),  # 00:30 CET: already Sunday in Amsterdam
    (datetime(2025, 3, 30, 0, 59, tzinfo=UTC), D(2025, 3, 30)),  # just before the clocks go forward
    (datetime(2025, 3, 30, 21, 59, tzinfo=UTC), D(2025, 3, 30)),  # 23:59 CEST
    (datetime(2025, 3, 30, 22, 0, tzinfo=UTC), D(2025, 3, 31)),  # 00:00 CEST
    (datetime(2025, 10, 25, 22, 30, tzinfo=UTC), D(2025, 10, 26)),  # 00:30 CEST on the last Sunday of October
    (datetime(2025, 10, 26, 22, 59, tzinfo=UTC), D(2025, 10, 26)),  # 23:59 CET
    (datetime(2025, 10, 26, 23, 0, tzinfo=UTC), D(2025, 10, 27)),
])
def test_today_is_the_amsterdam_date(moment: datetime, expected: date) -> None:
    assert clock.today(moment) == expected


@pytest.mark.parametrize(("received", "ack_due", "feedback_due"), [
    (D(2025, 3, 24), D(2025, 3, 31), D(2025, 6, 30)),  # spans the spring change (30 Mar)
    (D(2025, 3, 30), D(2025, 4, 6), D(2025, 7, 6)),  # received on the day itself
    (D(2025, 10, 20), D(2025, 10, 27), D(2026, 1, 27)),  # spans the autumn change (26 Oct)
    (D(2025, 10, 26), D(2025, 11, 2), D(2026, 2, 2)),
])
def test_daylight_saving_changes_do_not_shift_dates(received: date, ack_due: date, feedback_due: date) -> None:
    assert due("wbk", "acknowledge", {"received": received}) == ack_due
    assert due("wbk", "feedback", {"received": received}) == feedback_due


# --- stored cases: events, done dates, moves, back-dating -------------------------------------------

def milestones(session: Session, case: Case) -> dict[str, Milestone]:
    return {m.kind: m for m in session.scalars(select(Milestone).where(Milestone.case_id == case.id))}


def test_received_case_gets_acknowledge_and_fallback_feedback(db_session: Session, make_case: Callable[..., Case]) -> None:
    case = make_case("misstand", D(2025, 1, 24))
    got = milestones(db_session, case)
    assert set(got) == {"acknowledge", "feedback"}
    assert got["acknowledge"].due_on == D(2025, 1, 31)
    assert got["feedback"].due_on == D(2025, 4, 30)
    assert got["feedback"].triggered_on == D(2025, 1, 24)


def test_acknowledgement_recomputes_feedback_and_counts_as_met(
    db_session: Session, make_case: Callable[..., Case], freeze: Callable[[date], None]
) -> None:
    case = make_case("misstand", D(2025, 1, 24))
    freeze(D(2025, 1, 27))
    clock.on_acknowledged(db_session, case, D(2025, 1, 27))
    got = milestones(db_session, case)
    assert got["acknowledge"].done_on == D(2025, 1, 27) <= got["acknowledge"].due_on
    assert got["feedback"].due_on == D(2025, 4, 27)
    assert clock.next_promised_date(db_session, case) == D(2025, 4, 27)
    freeze(D(2025, 4, 28))
    assert clock.disclosure_risk(db_session, case, D(2025, 4, 27)) is False
    assert clock.disclosure_risk(db_session, case, D(2025, 4, 28)) is True
    clock.on_feedback(db_session, case, D(2025, 4, 28))
    got = milestones(db_session, case)
    assert got["feedback"].done_on == D(2025, 4, 28)  # late: not met, and the risk stays on record
    assert clock.disclosure_risk(db_session, case, D(2025, 4, 29)) is True
    assert clock.next_promised_date(db_session, case) is None


def test_feedback_in_time_has_no_disclosure_risk(
    db_session: Session, make_case: Callable[..., Case], freeze: Callable[[date], None]
) -> None:
    case = make_case("misstand", D(2025, 1, 2))
    freeze(D(2025, 2, 1))
    clock.on_feedback(db_session, case, D(2025, 2, 1))
    assert clock.disclosure_risk(db_session, case, D(2026, 1, 1)) is False
    # The klachten channel's policy has no disclosure-risk rule at all.
    complaint = make_case("omgangsvormen", D(2024, 1, 2))
    assert clock.disclosure_risk(db_session, complaint, D(2026, 1, 1)) is False


def test_meeting_request_and_meeting_held(
    db_session: Session, make_case: Callable[..., Case], freeze: Callable[[date], None]
) -> None:
    case = make_case("misstand", D(2025, 3, 1))
    freeze(D(2025, 3, 5))
    clock.on_meeting_requested(db_session, case, D(2025, 3, 5))
    assert milestones(db_session, case)["meeting"].due_on == D(2025, 3, 19)
    assert clock.next_promised_date(db_session, case) == D(2025, 3, 8)  # acknowledgement comes first
    freeze(D(2025, 3, 12))
    clock.on_meeting_requested(db_session, case, D(2025, 3, 12))  # asking again does not restart the term
    assert milestones(db_session, case)["meeting"].due_on == D(2025, 3, 19)
    clock.on_meeting_held(db_session, case, D(2025, 3, 12))
    assert milestones(db_session, case)["meeting"].done_on == D(2025, 3, 12)
    freeze(D(2025, 4, 1))
    clock.on_meeting_requested(db_session, case, D(2025, 4, 1))  # a new request after a held meeting
    meeting = milestones(db_session, case)["meeting"]
    assert (meeting.due_on, meeting.done_on) == (D(2025, 4, 15), None)


def test_channel_move_recomputes_from_the_original_receipt(
    db_session: Session, make_case: Callable[..., Case], freeze: Callable[[date], None]
) -> None:
    case = make_case("omgangsvormen", D(2025, 3, 3))
    assert {k: m.due_on for k, m in milestones(db_session, case).items()} == {"respond": D(2025, 3, 17)}
    freeze(D(2025, 3, 5))
    clock.on_acknowledged(db_session, case, D(2025, 3, 5))
    assert milestones(db_session, case)["respond"].done_on == D(2025, 3, 5)
    freeze(D(2025, 4, 1))
    wbk = db_session.scalar(select(Channel).where(Channel.slug == "misstand"))
    clock.on_channel_moved(db_session, case, wbk)
    got = milestones(db_session, case)
    assert set(got) == {"respond", "acknowledge", "feedback"}  # the done "respond" stays as history
    assert got["respond"].done_on == D(2025, 3, 5)
    assert (got["acknowledge"].due_on, got["acknowledge"].done_on) == (D(2025, 3, 10), D(2025, 3, 5))
    assert got["feedback"].due_on == D(2025, 6, 5)
    # Moving back drops the open Wbk feedback milestone; the done acknowledgement stays.
    complaint_channel = db_session.scalar(select(Channel).where(Channel.slug == "omgangsvormen"))
    clock.on_channel_moved(db_session, case, complaint_channel)
    assert set(milestones(db_session, case)) == {"respond", "acknowledge"}


def test_open_milestone_of_old_policy_is_replaced_on_move(db_session: Session, make_case: Callable[..., Case]) -> None:
    case = make_case("vertrouwenspersoon", D(2025, 1, 31))
    wbk = db_session.scalar(select(Channel).where(Channel.slug == "integriteit"))
    clock.on_channel_moved(db_session, case, wbk)
    got = milestones(db_session, case)
    assert set(got) == {"acknowledge", "feedback"}
    assert got["acknowledge"].due_on == D(2025, 2, 7)
    assert got["feedback"].due_on == D(2025, 5, 7)
    assert case.channel_id == wbk.id


def test_weekend_setting_on_a_stored_policy(db_session: Session, make_case: Callable[..., Case]) -> None:
    policy = db_session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.slug == "wbk"))
    policy.shift_to_working_day = True
    case = make_case("misstand", D(2025, 3, 1))
    assert milestones(db_session, case)["acknowledge"].due_on == D(2025, 3, 10)


def test_back_dating_is_impossible(
    db_session: Session, make_case: Callable[..., Case], freeze: Callable[[date], None]
) -> None:
    case = make_case("misstand", D(2025, 3, 1))
    freeze(D(2025, 3, 20))
    for action in (clock.on_acknowledged, clock.on_feedback, clock.on_closed, clock.on_meeting_requested):
        with pytest.raises(clock.ActionDateError):
            action(db_session, case, D(2025, 3, 7))
        with pytest.raises(clock.ActionDateError):
            action(db_session, case, D(2025, 3, 21))
    with pytest.raises(clock.ActionDateError):
        clock.mark_done(db_session, case, "acknowledge", D(2025, 3, 7))
    assert case.acknowledged_on is None
    # The UTC date just after midnight in Amsterdam is yesterday: accepted, but the server's date is recorded.
    clock.on_acknowledged(db_session, case, D(2025, 3, 19))
    assert case.acknowledged_on == D(2025, 3, 20)
    assert milestones(db_session, case)["acknowledge"].done_on == D(2025, 3, 20)


def test_closing_adds_retention_review(
    db_session: Session, make_case: Callable[..., Case], freeze: Callable[[date], None]
) -> None:
    case = make_case("omgangsvormen", D(2025, 1, 2))
    case.channel.retention_months = 24
    freeze(D(2025, 2, 28))
    clock.on_closed(db_session, case, D(2025, 2, 28))
    assert milestones(db_session, case)["retention_review"].due_on == D(2027, 2, 28)
    assert clock.next_promised_date(db_session, case) is None


def test_awb_extension_is_audited_and_moves_the_due_date(
    db_session: Session, make_case: Callable[..., Case], freeze: Callable[[date], None]
) -> None:
    policy = db_session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.slug == "awb-9"))
    channel = db_session.scalar(select(Channel).where(Channel.slug == "omgangsvormen"))
    channel.policy_id, channel.policy = policy.id, policy
    case = make_case("omgangsvormen", D(2025, 3, 3))
    assert milestones(db_session, case)["decide"].due_on == D(2025, 4, 14)
    with pytest.raises(clock.ExtensionError):
        clock.extend(db_session, case, "decide", "extension", "  ", None)
    with pytest.raises(clock.ExtensionError):
        clock.extend(db_session, case, "decide", "holiday", "why not", None)
    clock.extend(db_session, case, "decide", "extension", "Advisory committee needs more time", None)
    assert milestones(db_session, case)["decide"].due_on == D(2025, 5, 12)
    with pytest.raises(clock.ExtensionError):
        clock.extend(db_session, case, "decide", "extension", "again", None)
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)).all()
    assert [a.action for a in audit] == ["milestone_extended"]
    assert "2025-04-14->2025-05-12" in audit[0].detail
    # A later recompute (e.g. a channel setting change) keeps the extension.
    clock.recompute(db_session, case)
    assert milestones(db_session, case)["decide"].due_on == D(2025, 5, 12)
    freeze(D(2025, 5, 12))
    clock.on_closed(db_session, case, D(2025, 5, 12))
    decide = milestones(db_session, case)["decide"]
    assert decide.done_on == decide.due_on  # met: on the due date itself


@pytest.mark.parametrize(("rules", "fragment"), [
    ([], "non-empty"),
    ([{"milestone": "ack", "trigger": "posted", "days": 7}], "trigger"),
    ([{"milestone": "Ack!", "trigger": "received", "days": 7}], "milestone"),
    ([{"milestone": "ack", "trigger": "received", "days": -1}], "whole numbers"),
    ([{"milestone": "ack", "trigger": "received"}], "at least one day"),
    ([{"milestone": "ack", "trigger": "received", "days": 7, "done_by": ["magic"]}], "done_by"),
    ([{"milestone": "ack", "trigger": "received", "days": 7, "colour": "red"}], "colour"),
    ([{"milestone": "a", "trigger": "received", "days": 7}, {"milestone": "a", "trigger": "received", "days": 7,
      "done_by": ["feedback"]}], "twice"),
])
def test_invalid_rules_are_explained(app: object, rules: list[object], fragment: str) -> None:
    with pytest.raises(clock.PolicyError) as caught:
        clock.parse_rules(rules)
    assert any(fragment in problem for problem in caught.value.problems)


def test_every_builtin_policy_is_valid() -> None:
    for policy in BUILTIN_POLICIES:
        assert clock.parse_rules(policy["rules"])
