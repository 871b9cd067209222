"""Each milestone counts once: done on time, done late, overdue or still running (issue 14, item 3).

The on-time percentage is over what is decided (on time, late, overdue), never over what still runs.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, Channel
from app.services import clock, compliance
from app.services.compliance import Outcomes

D = date
ON = D(2026, 6, 1)


def _case(session: Session, received: date, **dates: date) -> Case:
    channel = session.scalar(select(Channel).where(Channel.slug == "misstand"))
    assert channel is not None
    case = Case(reference="MK-" + secrets.token_hex(3).upper(), receipt_hash=secrets.token_bytes(32),
                reporter_public_key=b"k", reporter_salt=b"s", reporter_auth_digest=b"d", channel_id=channel.id,
                channel=channel, category="fraude", received_on=received, **dates)
    session.add(case)
    session.flush()
    clock.recompute(session, case)
    return case


@pytest.fixture
def six_cases(db_session: Session, monkeypatch: pytest.MonkeyPatch) -> dict[str, Case]:
    monkeypatch.setattr(clock, "today", lambda moment=None: ON)
    cases = {
        # acknowledgement on time; feedback due 6 Aug: running
        "a": _case(db_session, D(2026, 5, 4), acknowledged_on=D(2026, 5, 6)),
        # acknowledgement late (due 11 May); feedback due 11 Aug (the earlier fallback): running
        "b": _case(db_session, D(2026, 5, 4), acknowledged_on=D(2026, 5, 20)),
        # acknowledgement due 4 June: running; feedback running
        "c": _case(db_session, D(2026, 5, 28)),
        # nothing done: acknowledgement (12 Jan) and feedback (12 Apr) overdue
        "d": _case(db_session, D(2026, 1, 5)),
        # both on time (feedback due 7 Apr)
        "e": _case(db_session, D(2026, 1, 5), acknowledged_on=D(2026, 1, 7), feedback_on=D(2026, 3, 1)),
        # acknowledgement on time, feedback late
        "f": _case(db_session, D(2026, 1, 5), acknowledged_on=D(2026, 1, 7), feedback_on=D(2026, 5, 1)),
    }
    db_session.commit()
    return cases


def test_stats_count_each_state_and_the_percentage_over_decided(app: Flask, db_session: Session,
                                                                six_cases: dict[str, Case]) -> None:
    with app.test_request_context("/nl/"):
        year = compliance.compute_stats(db_session, "year", 2026, ON)[("2026", "")]
        months = compliance.compute_stats(db_session, "month", 2026, ON)
    assert year.ack == Outcomes(on_time=3, late=1, overdue=1, running=1)
    assert year.feedback == Outcomes(on_time=1, late=1, overdue=1, running=3)
    assert (year.ack.decided, year.ack.percentage) == (5, "60%")
    assert (year.feedback.decided, year.feedback.percentage) == (3, "33%")
    may = months[("2026-05", "")]
    assert may.ack == Outcomes(1, 1, 0, 1) and may.feedback == Outcomes(0, 0, 0, 3)
    assert may.feedback.percentage == "–"  # nothing decided yet: no figure, certainly not 0%


def test_overview_report_and_csv_show_the_four(six_cases: dict[str, Case],
                                               staff_client: Callable[..., FlaskClient]) -> None:
    client = staff_client("compliance")
    overview = client.get("/nl/compliance/?period=year&year=2026").get_data(as_text=True)
    assert "3 op tijd" in overview and "1 te laat gedaan" in overview and "1 verlopen" in overview
    assert "1 lopen nog" in overview and "60% op tijd van 5 beslist" in overview
    assert "3 lopen nog" in overview and "33% op tijd van 3 beslist" in overview
    report = client.get("/nl/compliance/report/2026").get_data(as_text=True)
    ack = report.split('id="report-ack">', 1)[1].split("</td>", 1)[0]
    feedback = report.split('id="report-feedback">', 1)[1].split("</td>", 1)[0]
    assert "3 op tijd" in ack and "1 te laat gedaan" in ack and "1 verlopen" in ack and "1 lopen nog" in ack
    assert "60% op tijd van 5 beslist" in ack
    assert "1 op tijd" in feedback and "3 lopen nog" in feedback and "33% op tijd van 3 beslist" in feedback
    response = client.get("/nl/compliance/register.csv?year=2026")
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    by_reference = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    ack_state, feedback_state = "Ontvangstbevestiging: stand", "Terugkoppeling: stand"
    states = {name: (by_reference[case.reference][ack_state], by_reference[case.reference][feedback_state])
              for name, case in six_cases.items()}
    assert states == {
        "a": ("op tijd gedaan", "loopt nog"), "b": ("te laat gedaan", "loopt nog"), "c": ("loopt nog", "loopt nog"),
        "d": ("verlopen, niet gedaan", "verlopen, niet gedaan"), "e": ("op tijd gedaan", "op tijd gedaan"),
        "f": ("op tijd gedaan", "te laat gedaan"),
    }
    english = client.get("/en/compliance/register.csv?year=2026").get_data(as_text=True).lstrip("\ufeff")
    assert english.splitlines()[0].startswith("Reference,Channel,")
