"""The inbox marks a burst of new cases, computed from day-granular dates only (issue 10)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app import db
from app.services import clock, inflow


def test_a_burst_of_new_cases_is_marked_in_the_inbox(app: Flask, client: FlaskClient, make_member: Callable[..., Any],
                                                      make_case: Callable[..., Any], login: Callable[..., Any]) -> None:
    hanna = make_member("hanna")
    today = clock.today()
    for back in range(2, inflow.USUAL_DAYS + 1, 2):  # usually one case every other day
        make_case(day=today - timedelta(days=back))
    make_case(day=today - timedelta(days=inflow.USUAL_DAYS + 5))  # older: not part of "usually"
    for _ in range(inflow.BURST_MIN - 1):
        make_case(day=today)
    login(client, hanna)
    assert "nieuwe zaken vandaag" not in client.get("/nl/handler/").get_data(as_text=True)
    make_case(day=today)
    html = client.get("/nl/handler/").get_data(as_text=True)
    assert "10 nieuwe zaken vandaag, gewoonlijk 0,5 per dag." in html
    english = client.get("/en/handler/").get_data(as_text=True)
    assert "10 new cases today, usually 0.5 a day." in english
    with db.session_scope(app) as session:
        counted = inflow.inflow(session, hanna.id, today)
    assert counted.today == 10 and counted.usual == 0.5 and counted.burst


def test_only_the_handlers_own_cases_count(app: Flask, make_member: Callable[..., Any],
                                           make_case: Callable[..., Any]) -> None:
    hanna = make_member("hanna")
    other = make_member("otto", channels=("omgangsvormen",))
    for _ in range(inflow.BURST_MIN):
        make_case()
    with db.session_scope(app) as session:
        assert inflow.inflow(session, hanna.id, clock.today()).burst
        assert inflow.inflow(session, other.id, clock.today()) == inflow.Inflow(today=0, usual=None)


def test_the_count_stops_where_the_verdict_is_known_and_the_boundary_holds(
        app: Flask, make_member: Callable[..., Any], make_case: Callable[..., Any]) -> None:
    """Ten today is a burst exactly when the 28 days before hold at most 10 * 28 / 5 = 56 cases (2 a day)."""
    hanna = make_member("hanna")
    today = clock.today()
    for number in range(56):
        make_case(day=today - timedelta(days=1 + number % inflow.USUAL_DAYS))
    for _ in range(inflow.BURST_MIN - 1):
        make_case(day=today)
    with db.session_scope(app) as session:
        assert inflow.inflow(session, hanna.id, today) == inflow.Inflow(today=9, usual=None)  # too few to count on
    make_case(day=today)
    with db.session_scope(app) as session:
        assert inflow.inflow(session, hanna.id, today) == inflow.Inflow(today=10, usual=2.0)
        assert inflow.inflow(session, hanna.id, today).burst
    make_case(day=today - timedelta(days=3))  # the 57th: ten today is now less than five times the usual
    with db.session_scope(app) as session:
        counted = inflow.inflow(session, hanna.id, today)
    assert counted == inflow.Inflow(today=10, usual=None) and not counted.burst
