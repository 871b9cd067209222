"""The inbox query against a plain Python ordering of the same cases, page by page, with and without filters.

Open cases with an open deadline come first (nearest due date, then date received, then reference); the
others follow by date received and reference; the retention review is not a deadline, nor is a milestone a
closed case never met; purged cases and cases of other handlers never appear.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from math import ceil

import pytest
from flask import Flask
from sqlalchemy import select

from app import db
from app.models import Case, Milestone, Participant
from app.services import clock, handling, retention

TODAY = date(2026, 6, 15)


@pytest.fixture
def handler_cases(app: Flask, make_member, make_case) -> tuple[str, list[str]]:
    """Twelve cases of one handler with varied (and tied) deadlines, one of them closed with its acknowledgement
    never sent, one purged case, one of someone else."""
    anna = make_member("anna", channels=("misstand", "omgangsvormen"))
    make_member("bert", channels=("integriteit",))
    references = []
    for number in range(12):
        channel = ("misstand", "fraude") if number % 3 else ("omgangsvormen", "pesten")
        receipt = make_case(day=TODAY - timedelta(days=number % 4), channel_slug=channel[0], category=channel[1],
                            fields={"what": f"Melding {number}"})
        references.append(receipt.reference)
    purged = make_case(day=TODAY - timedelta(days=400)).reference
    other = make_case(channel_slug="integriteit", category="belangenverstrengeling").reference
    rng = random.Random(3)
    with db.session_scope(app) as session:
        for reference in references[:8]:  # open deadlines with colliding due dates
            for milestone in session.scalars(select(Milestone).join(Case).where(Case.reference == reference)):
                milestone.due_on = TODAY + timedelta(days=rng.choice((-3, 0, 0, 5)))
        for reference in references[8:11]:  # handled: only the retention review stays open
            for milestone in session.scalars(select(Milestone).join(Case).where(Case.reference == reference)):
                if milestone.kind != "retention_review":
                    milestone.done_on = TODAY
        case = session.scalar(select(Case).where(Case.reference == references[8]))
        assert case is not None
        session.add(Milestone(case_id=case.id, kind="retention_review", due_on=TODAY - timedelta(days=30),
                              extensions=[]))
        session.flush()
        for reference in references[:11]:  # the changes above were made behind the clock's back
            edited = session.scalar(select(Case).where(Case.reference == reference))
            assert edited is not None
            clock.summarise(session, edited)
        closed = session.scalar(select(Case).where(Case.reference == references[11]))
        assert closed is not None
        closed.status = "closed"
        clock.on_closed(session, closed, clock.today())  # closed without an acknowledgement: unmet, not due
        assert session.scalar(select(Milestone).where(Milestone.case_id == closed.id, Milestone.kind == "acknowledge",
                                                      Milestone.done_on.is_(None))) is not None
        doomed = session.scalar(select(Case).where(Case.reference == purged))
        assert doomed is not None
        retention.purge_case(session, app.config["MELDKLUIS"].storage_path, doomed, TODAY)
        assert session.scalar(select(Participant).where(Participant.case_id == doomed.id)) is None
    assert other not in references
    return anna.id, references


def expected_order(app: Flask, user_id: str, **filters: str) -> list[tuple[str, date | None, str | None]]:
    """(reference, nearest open deadline, its kind) of the handler's cases, ordered the obvious way."""
    with db.session_scope(app) as session:
        cases = session.scalars(
            select(Case).join(Participant).where(Participant.user_id == user_id, Case.purged_on.is_(None)))
        listed = []
        for case in cases:
            if filters.get("status") and case.status != filters["status"]:
                continue
            if filters.get("channel") and case.channel.slug != filters["channel"]:
                continue
            if filters.get("category") and case.category != filters["category"]:
                continue
            open_ones = [] if case.closed_on else sorted((m.due_on, m.kind) for m in session.scalars(
                select(Milestone).where(Milestone.case_id == case.id, Milestone.done_on.is_(None),
                                        Milestone.kind != "retention_review")))
            due, kind = open_ones[0] if open_ones else (None, None)
            listed.append((due is None, due or date.min, case.received_on, case.reference, kind))
    return [(reference, None if no_due else due, kind) for no_due, due, _, reference, kind in sorted(listed)]


@pytest.mark.parametrize("filters", [{}, {"channel": "misstand"}, {"category": "pesten"}, {"status": "new"}])
def test_every_page_follows_the_ordering(app: Flask, handler_cases, monkeypatch, filters) -> None:
    user_id, _references = handler_cases
    monkeypatch.setattr(handling, "PER_PAGE", 3)
    expected = expected_order(app, user_id, **filters)
    assert expected and len(expected) <= 12
    seen = []
    with app.test_request_context(), db.session_scope(app) as session:
        for number in range(1, ceil(len(expected) / 3) + 1):
            listing = handling.inbox(session, user_id, "nl", TODAY, page=number, **filters)
            assert (listing.page, listing.pages, listing.total) == (number, ceil(len(expected) / 3), len(expected))
            seen += [(row.reference, row.next_due, row.next_milestone) for row in listing.rows]
            assert all(row.overdue == (row.next_due is not None and row.next_due < TODAY) for row in listing.rows)
        last = handling.inbox(session, user_id, "nl", TODAY, page=99, **filters)
        assert last.page == last.pages and last.rows
    assert seen == expected


def test_handled_and_closed_cases_come_last_and_the_retention_review_is_no_deadline(app: Flask, handler_cases) -> None:
    user_id, references = handler_cases
    with app.test_request_context(), db.session_scope(app) as session:
        listing = handling.inbox(session, user_id, "nl", TODAY)
    assert listing.total == 12
    tail = listing.rows[-4:]
    assert {row.reference for row in tail} == set(references[8:])
    assert all(row.next_due is None and row.next_milestone is None and not row.overdue for row in tail)
    assert [row.received_on for row in tail] == sorted(row.received_on for row in tail)


def test_unread_follows_the_message_counter(app: Flask, handler_cases) -> None:
    user_id, references = handler_cases
    with db.session_scope(app) as session:
        case = session.scalar(select(Case).where(Case.reference == references[0]))
        assert case is not None
        case.message_counter = 2
    with app.test_request_context(), db.session_scope(app) as session:
        rows = {row.reference: row for row in handling.inbox(session, user_id, "nl", TODAY).rows}
    assert rows[references[0]].unread and not rows[references[1]].unread


def test_an_empty_inbox(app: Flask, make_member) -> None:
    carla = make_member("carla", channels=())
    with app.test_request_context(), db.session_scope(app) as session:
        listing = handling.inbox(session, carla.id, "nl", TODAY, page=3)
    assert (listing.rows, listing.page, listing.pages, listing.total) == ([], 1, 1, 0)


def test_the_closed_cases_page_by_page(app: Flask, handler_cases, monkeypatch) -> None:
    """The list of closed cases skips the deadline part (the clock gives closed cases none) and pages right."""
    user_id, references = handler_cases
    with db.session_scope(app) as session:
        for reference in references[9:11]:
            case = session.scalar(select(Case).where(Case.reference == reference))
            assert case is not None
            case.status = "closed"
            clock.on_closed(session, case, clock.today())
    monkeypatch.setattr(handling, "PER_PAGE", 1)
    expected = expected_order(app, user_id, status="closed")
    assert len(expected) == 3
    with app.test_request_context(), db.session_scope(app) as session:
        seen = [(row.reference, row.next_due, row.next_milestone)
                for number in (1, 2, 3) for row in handling.inbox(session, user_id, "nl", TODAY, status="closed",
                                                                  page=number).rows]
    assert seen == expected and all(due is None for _reference, due, _kind in seen)
