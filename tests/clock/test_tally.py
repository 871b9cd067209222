"""The compliance tally equals a computation from the cases after every kind of case change, on dated cases.

The flush hook (app/services/tally.py) keeps the tally; `from_scratch` computes it anew in SQL. A property test
runs random sequences of what happens to cases (submission, acknowledgement, feedback, closing, a move, an
extension, a meeting, a policy change, a purge, a date set directly, a deletion) over a moving "today", and after
each step the two must agree. Bulk SQL bypasses the hook: `check` reports the drift, `maintenance` repairs it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app import db
from app.cli import main
from app.models import Case, Channel, DeadlinePolicy, Milestone
from app.services import case_track, checks, clock, compliance, retention, tally
from tests.clock.conftest import new_case

START = date(2025, 12, 20)
OPERATIONS = ("submit", "submit_dated", "acknowledge", "feedback", "close", "move", "extend", "meeting_requested",
              "meeting_held", "policy", "purge", "set_dates", "delete", "next_day")


def _in_step(session: Session) -> None:
    session.flush()
    difference = tally.stored(session.connection())
    difference.subtract(tally.from_scratch(session.connection()))
    assert {key: value for key, value in difference.items() if value} == {}


def _apply(session: Session, operation: str, pick: int, today: date, storage: Path, made: list[str]) -> date:
    """One thing that happens to one of the few cases `made` so far; returns the (possibly next) day."""
    channels = list(session.scalars(select(Channel).order_by(Channel.position)))
    if operation == "next_day":
        return today + timedelta(days=1 + pick % 40)
    if operation in ("submit", "submit_dated"):
        received = today if operation == "submit" else today - timedelta(days=pick % 400)
        made.append(new_case(session, channels[pick % len(channels)].slug, received).id)
        return today
    case = session.get(Case, made[pick % len(made)])
    if case is None:  # deleted
        return today
    if operation == "acknowledge":
        clock.on_acknowledged(session, case, today)
    elif operation == "feedback":
        clock.on_feedback(session, case, today)
    elif operation == "close":
        case.status = "closed"
        clock.on_closed(session, case, today)
    elif operation == "move" and case.closed_on is None:
        clock.on_channel_moved(session, case, next(c for c in channels if c.id != case.channel_id))
    elif operation == "extend":
        available = case_track.extensions_available(session, case)
        if available:
            milestone, slug, _days = available[pick % len(available)]
            clock.extend(session, case, milestone.kind, slug, "advisory committee", None)
    elif operation == "meeting_requested":
        clock.on_meeting_requested(session, case, today)
    elif operation == "meeting_held":
        clock.on_meeting_held(session, case, today)
    elif operation == "policy":  # often the Awb policy, the one with extensions
        policies = ["awb-9", *session.scalars(select(DeadlinePolicy.slug).order_by(DeadlinePolicy.slug))]
        case_track.set_channel_policy(session, None, case.channel, policies[pick % len(policies)])
    elif operation == "purge" and case.closed_on is not None and not case.legal_hold:
        retention.purge_case(session, storage, case, today)
    elif operation == "set_dates":  # set without the clock, as an import or a correction would
        case.acknowledged_on = case.acknowledged_on or case.received_on + timedelta(days=pick % 9)
        case.closed_on = None if case.closed_on else today
    elif operation == "delete":
        session.delete(case)
    return today


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 10_000)), min_size=1, max_size=30))
def test_tally_equals_the_cases_after_every_change(
    app: Flask, db_session: Session, freeze: Callable[[date], None], tmp_path: Path, steps: list[tuple[str, int]]
) -> None:
    today = START
    freeze(today)
    made: list[str] = []
    for operation, pick in [("submit_dated", 3), ("submit", 7), *steps]:
        with app.test_request_context("/nl/"):
            today = _apply(db_session, operation, pick, today, tmp_path, made)
        freeze(today)
        _in_step(db_session)
    db_session.commit()
    _in_step(db_session)


def test_overview_reads_the_tally_after_changes(
    app: Flask, db_session: Session, freeze: Callable[[date], None], make_case: Callable[..., Case]
) -> None:
    """The page's figures follow an acknowledgement, a move and a closing (and all years equal the sum)."""
    freeze(START)
    case = make_case("misstand", START - timedelta(days=10))
    other = make_case("integriteit", START - timedelta(days=40))
    with app.test_request_context("/nl/"):
        month = compliance.compute_stats(db_session, "month", START.year, START)
        assert month[("2025-12", case.channel_id)].ack.overdue == 1
        clock.on_acknowledged(db_session, case, START)
        clock.on_channel_moved(db_session, case, other.channel)
        case.status = "closed"
        clock.on_closed(db_session, case, START)
        month = compliance.compute_stats(db_session, "month", START.year, START)
        cell = month[("2025-12", other.channel_id)]
        assert (cell.received, cell.closed, cell.median_ack_days) == (1, 1, 10)
        assert ("2025-12", case.channel_id) in month and month[("2025-12", "")].received == 1
        every = compliance.compute_stats(db_session, "year", None, START)
        assert every[("2025", "")].received == 2


def test_bulk_sql_drift_is_reported_by_check_and_repaired_by_maintenance(
    app: Flask, db_session: Session, cli: CliRunner, make_case: Callable[..., Case]
) -> None:
    make_case("misstand", date(2025, 3, 4))
    db_session.commit()
    settings_ = app.config["MELDKLUIS"]
    assert not [f for f in checks.check_database(db_session, settings_) if f.code == "tally-drift"]
    channel = db_session.scalar(select(Channel).where(Channel.slug == "misstand"))
    assert channel is not None
    # SQL the hook never sees: a case inserted and another one's date changed.
    db_session.execute(insert(Case), [{
        "id": secrets.token_hex(16), "reference": "BULK-1", "receipt_hash": secrets.token_bytes(32),
        "reporter_public_key": b"k", "reporter_salt": b"s", "reporter_auth_digest": b"d", "channel_id": channel.id,
        "category": "fraude", "received_on": date(2025, 4, 1), "acknowledged_on": date(2025, 4, 3)}])
    db_session.execute(update(Milestone).values(done_on=date(2025, 3, 5)))
    db_session.commit()
    found = [f for f in checks.check_database(db_session, settings_) if f.code == "tally-drift"]
    assert found and "meldkluis maintenance" in found[0].message
    db_session.close()
    result = cli.invoke(main, ["maintenance"])
    assert result.exit_code == 0, result.output
    assert "differed from the cases; rebuilt" in result.output
    assert tally.drift(db_session.connection()) == 0
    db_session.rollback()  # maintenance reorders the tables (PostgreSQL): it waits for open transactions
    again = cli.invoke(main, ["maintenance"])
    assert "compliance tally: in step with the cases" in again.output


def test_concurrent_submissions_count_once_each(app: Flask) -> None:
    """Writers in separate transactions add to the same tally rows; no increment is lost."""
    day = date(2025, 6, 2)
    errors: list[BaseException] = []

    def submit(count: int) -> None:
        try:
            for _ in range(count):
                with app.test_request_context("/nl/"), db.session_scope(app) as session:
                    new_case(session, "misstand", day)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=submit, args=(8,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session_scope(app) as session:
        assert tally.drift(session.connection()) == 0
        stats = compliance.compute_stats(session, "month", 2025, day)
        assert stats[("2025-06", "")].received == 24


@pytest.mark.parametrize("granularity", compliance.GRANULARITIES)
def test_rebuild_equals_the_kept_tally(app: Flask, db_session: Session, make_case: Callable[..., Case],
                                       granularity: str) -> None:
    for offset in range(0, 300, 37):
        case = make_case("omgangsvormen" if offset % 2 else "misstand", date(2025, 1, 1) + timedelta(days=offset))
        case.acknowledged_on = case.received_on + timedelta(days=offset % 11)
        clock.recompute(db_session, case)
    db_session.flush()
    on = date(2025, 9, 1)
    with app.test_request_context("/nl/"):
        kept = compliance.compute_stats(db_session, granularity, None, on)
        tally.rebuild(db_session.connection())
        assert compliance.compute_stats(db_session, granularity, None, on) == kept
