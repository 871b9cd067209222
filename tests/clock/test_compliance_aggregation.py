"""The overview's SQL aggregation against a plain Python count over the same cases, and the paged deadline list."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, Channel, Milestone
from app.services import clock, compliance

ON = date(2025, 11, 20)


def _random_cases(session: Session, new_case: Callable[..., Case], count: int, seed: int) -> None:
    """Cases over two years in every channel: some acknowledged or given feedback late, some closed or moved."""
    rng = random.Random(seed)
    slugs = list(session.scalars(select(Channel.slug).order_by(Channel.position)))
    for _ in range(count):
        received = ON - timedelta(days=rng.randrange(0, 700))
        case = new_case(rng.choice(slugs), received)
        if rng.random() < 0.8:
            case.acknowledged_on = min(ON, received + timedelta(days=rng.randrange(0, 15)))
        if rng.random() < 0.6:
            case.feedback_on = min(ON, received + timedelta(days=rng.randrange(10, 120)))
        if case.feedback_on and rng.random() < 0.6:
            case.closed_on = min(ON, case.feedback_on + timedelta(days=rng.randrange(0, 40)))
            case.status = "closed"
        clock.recompute(session, case)
        if rng.random() < 0.15:  # moved: the other policy's milestones, done ones kept as history
            clock.on_channel_moved(session, case, session.scalar(select(Channel).where(
                Channel.slug == rng.choice([slug for slug in slugs if slug != case.channel.slug]))))


def _expected(session: Session, granularity: str, year: int | None) -> dict[tuple[str, str], compliance.Stats]:
    """The same figures, counted case by case from ORM objects."""
    cells: dict[tuple[str, str], compliance.Stats] = defaultdict(compliance.Stats)
    for case in session.scalars(select(Case)):
        if year is not None and case.received_on.year != year:
            continue
        period = compliance._period(case.received_on.year, case.received_on.month, granularity)
        milestones = list(session.scalars(select(Milestone).where(Milestone.case_id == case.id)))
        for cell in (cells[(period, case.channel_id)], cells[(period, "")]):
            cell.received += 1
            cell.closed += case.closed_on is not None
            if case.acknowledged_on is not None:
                cell.ack_days[(case.acknowledged_on - case.received_on).days] += 1
            if case.feedback_on is not None:
                cell.feedback_days[(case.feedback_on - case.received_on).days] += 1
            for m in milestones:
                met = m.done_on is not None and m.done_on <= m.due_on
                undone = "" if m.done_on is not None else "overdue" if m.due_on < ON else "running"
                if m.kind in clock.ACK_KINDS:
                    cell.ack_total += 1
                    cell.ack_on_time += met
                    cell.ack_overdue += undone == "overdue"
                    cell.ack_running += undone == "running"
                elif m.kind in clock.FEEDBACK_KINDS:
                    cell.feedback_total += 1
                    cell.feedback_on_time += met
                    cell.feedback_overdue += undone == "overdue"
                    cell.feedback_running += undone == "running"
                if m.kind != compliance.RETENTION_KIND:
                    cell.overdue_now += m.done_on is None and m.due_on < ON and case.closed_on is None
    return cells


def test_sql_figures_equal_a_case_by_case_count(
    db_session: Session, app: Flask, make_case: Callable[..., Case]
) -> None:
    _random_cases(db_session, make_case, 80, seed=5)
    db_session.flush()
    with app.test_request_context("/nl/"):
        for granularity in compliance.GRANULARITIES:
            for year in (None, ON.year - 1, ON.year):
                found = compliance.compute_stats(db_session, granularity, year, ON)
                expected = _expected(db_session, granularity, year)
                assert set(found) == set(expected), (granularity, year)
                for key, stats in expected.items():
                    assert found[key] == stats, (granularity, year, key)
                    assert found[key].median_ack_days == stats.median_ack_days
    assert sum(s.overdue_now for k, s in expected.items() if not k[1]) > 0  # the data exercises every figure
    assert sum(s.ack_total - s.ack_on_time for k, s in expected.items() if not k[1]) > 0
    totals = [s for k, s in expected.items() if not k[1]]
    for state in ("on_time", "late", "overdue", "running"):  # every one of the four states occurs
        assert sum(getattr(s.ack, state) + getattr(s.feedback, state) for s in totals) > 0, state


def test_deadline_list_is_paged_in_due_order(
    db_session: Session, app: Flask, make_case: Callable[..., Case]
) -> None:
    today = clock.today()
    for offset in range(60):  # 60 unacknowledged reports: one acknowledgement due each
        make_case("misstand", today - timedelta(days=offset % 20))
    closed = make_case("misstand", today - timedelta(days=3))
    closed.status = "closed"
    clock.on_closed(db_session, closed, today)  # its open milestone is history, not a deadline
    with app.test_request_context("/nl/"):
        first = compliance.attention(db_session, today, "nl")
        second = compliance.attention(db_session, today, "nl", page=2)
        beyond = compliance.attention(db_session, today, "nl", page=9)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (60, 2, 50, 10)
    rows = first.rows + second.rows
    assert [(r.due_on, r.reference) for r in rows] == sorted((r.due_on, r.reference) for r in rows)
    assert closed.reference not in {r.reference for r in rows}
    assert beyond.page == 1 and beyond.rows == first.rows
    assert rows[0].overdue and rows[0].days_left == -12 and rows[-1].days_left == 7
