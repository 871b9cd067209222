"""Compliance view: authorisation, no content anywhere, figures, register/CSV and the yearly report."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from app import db
from app.models import Case, Channel, DeadlinePolicy, Milestone
from app.services import cases, clock, compliance
from app.services.submission import ReportInput, submit_report

D = date
CANARY = "KANARIE-7f3a9c"
PAGES = ("/nl/compliance/", "/en/compliance/?period=quarter", "/nl/compliance/?period=year",
         "/nl/compliance/register?year=all", "/nl/compliance/register.csv?year=all")


def report_pages(today: date) -> tuple[str, ...]:
    return (*PAGES, f"/nl/compliance/report/{today.year}")


def test_logged_out_is_sent_to_login(client: FlaskClient) -> None:
    for path in report_pages(clock.today()):
        response = client.get(path)
        assert response.status_code == 302
        assert "/handler/login" in response.headers["Location"]


@pytest.mark.parametrize("roles", [("handler",), ("admin",)])
def test_other_roles_get_403(staff_client: Callable[..., FlaskClient], roles: tuple[str, ...]) -> None:
    client = staff_client(*roles)
    for path in report_pages(clock.today()):
        assert client.get(path).status_code == 403


def test_policy_pages_are_for_admins_only(staff_client: Callable[..., FlaskClient], client: FlaskClient) -> None:
    assert client.get("/nl/admin/policies").status_code == 302
    assert staff_client("compliance").get("/nl/admin/policies").status_code == 403
    assert staff_client("handler").get("/nl/admin/policies/wbk").status_code == 403
    admin = staff_client("admin")
    assert admin.get("/nl/admin/policies").status_code == 200
    assert 'href="/nl/admin/policies"' in admin.get("/nl/admin/").get_data(as_text=True)  # found from the start


def test_compliance_pages_show_no_content(
    app: Flask, staff_client: Callable[..., FlaskClient], make_staff: Callable[..., str]
) -> None:
    settings = app.config["MELDKLUIS"]
    handler_id = make_staff("handler1", ("handler",))
    with app.test_request_context(), db.session_scope(app) as session:
        receipt = submit_report(session, settings, ReportInput(
            "misstand", "fraude", {"what": f"{CANARY} wat", "when": CANARY, "where": CANARY},
            identity=f"{CANARY} Jan Jansen"), [(f"{CANARY}.txt", io.BytesIO(CANARY.encode()))])
    with app.test_request_context(), db.session_scope(app) as session:
        case = session.get(Case, receipt.case_id)
        keys = crypto.derive_reporter_keys(receipt.passphrase, case.reporter_salt)
        opened = cases.open_as_reporter(session, case, keys.private)
        cases.add_message(session, opened, author_kind="reporter", body=f"{CANARY} message", day=case.received_on)
        cases.add_note(session, opened, handler_id, f"{CANARY} note")
    client = staff_client("compliance")
    for path in report_pages(clock.today()):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert CANARY not in body and CANARY.lower() not in body.lower(), path
        assert "Jansen" not in body
    assert receipt.reference in client.get("/nl/compliance/register").get_data(as_text=True)
    assert receipt.reference in client.get("/nl/compliance/").get_data(as_text=True)  # acknowledgement due soon


def _case(session: Session, slug: str, received: date, **dates: date | None) -> Case:
    channel = session.scalar(select(Channel).where(Channel.slug == slug))
    case = Case(reference="MK-" + secrets.token_hex(3).upper(), receipt_hash=secrets.token_bytes(32),
                reporter_public_key=b"k", reporter_salt=b"s", reporter_auth_digest=b"d", channel_id=channel.id,
                channel=channel, category="fraude" if slug == "misstand" else "pesten", received_on=received)
    for name, value in dates.items():
        setattr(case, name, value)
    session.add(case)
    session.flush()
    clock.recompute(session, case)
    for milestone in session.scalars(select(Milestone).where(Milestone.case_id == case.id)):
        if milestone.kind == "acknowledge" and case.acknowledged_on:
            milestone.done_on = case.acknowledged_on
    return case


def test_overview_figures(db_session: Session, app: Flask) -> None:
    on = D(2025, 7, 1)
    _case(db_session, "misstand", D(2025, 1, 6), acknowledged_on=D(2025, 1, 8), feedback_on=D(2025, 3, 1))
    _case(db_session, "misstand", D(2025, 1, 20), acknowledged_on=D(2025, 1, 30))  # late; feedback overdue
    _case(db_session, "misstand", D(2025, 2, 3), acknowledged_on=D(2025, 2, 7), closed_on=D(2025, 4, 1),
          feedback_on=D(2025, 4, 1))
    _case(db_session, "omgangsvormen", D(2025, 2, 10))  # respond overdue
    _case(db_session, "misstand", D(2024, 12, 30), acknowledged_on=D(2025, 1, 2))
    with app.test_request_context("/nl/"):
        months = compliance.compute_stats(db_session, "month", 2025, on)
        quarter = compliance.compute_stats(db_session, "quarter", 2025, on)[("2025-Q1", "")]
        data = compliance.overview(db_session, "quarter", 2025, on, "nl")
    january = months[("2025-01", "")]
    assert (january.received, january.ack_total, january.ack_on_time) == (2, 2, 1)
    assert (january.feedback_total, january.feedback_on_time, january.overdue_now) == (2, 1, 1)
    assert january.median_ack_days == 6.0  # 2 and 10 days
    assert quarter.received == 4 and quarter.closed == 1 and quarter.open == 3
    assert quarter.ack_total == 4 and quarter.ack_on_time == 2  # the complaint's "respond" counts, late
    assert quarter.overdue_now == 2
    assert quarter.median_ack_days == 4.0  # 2, 4, 10
    assert quarter.median_feedback_days == 55.5  # 54 and 57
    assert [row.period for row in data.totals] == ["2025-Q1"]
    assert {row.channel for row in data.rows} == {"Vermoeden van een misstand", "Ongewenste omgangsvormen"}
    assert str(data.chart).startswith("<svg") and "<script" not in str(data.chart)
    with app.test_request_context("/nl/"):
        everything = compliance.compute_stats(db_session, "year", None, on)
    assert everything[("2024", "")].received == 1 and everything[("2025", "")].received == 4


def test_attention_list_flags_disclosure_risk_and_hold(db_session: Session, app: Flask) -> None:
    on = clock.today()
    overdue = _case(db_session, "misstand", on - timedelta(days=120), acknowledged_on=on - timedelta(days=118))
    overdue.legal_hold = True
    _case(db_session, "misstand", on - timedelta(days=2))
    _case(db_session, "misstand", on - timedelta(days=60), acknowledged_on=on - timedelta(days=59))  # not soon
    with app.test_request_context("/nl/"):
        rows = compliance.attention(db_session, on, "nl").rows
    assert [(r.reference, r.kind, r.overdue, r.disclosure_risk, r.legal_hold) for r in rows][0] == (
        overdue.reference, "feedback", True, True, True)
    assert len(rows) == 2 and rows[1].kind == "acknowledge" and rows[1].days_left == 5


def test_csv_register_is_safe_and_complete(
    db_session: Session, app: Flask, staff_client: Callable[..., FlaskClient]
) -> None:
    case = _case(db_session, "misstand", D(2025, 1, 6), acknowledged_on=D(2025, 1, 8), closed_on=D(2025, 2, 1))
    case.outcome = "=HYPERLINK(\"http://evil\")"
    case.status = "closed"
    db_session.commit()
    response = staff_client("compliance").get("/en/compliance/register.csv?year=2025")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, row = rows[0], rows[1]
    assert len(rows) == 2
    values = dict(zip(header, row, strict=True))
    assert values["Reference"] == case.reference
    assert values["Outcome"] == "'=HYPERLINK(\"http://evil\")"
    assert values["Anonymous"] == "yes"
    assert values["Acknowledgement: due"] == "2025-01-13" and values["Acknowledgement: done"] == "2025-01-08"
    assert values["Received"] == "2025-01-06" and values["Closed"] == "2025-02-01"
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@"))
    assert compliance.csv_cell("-1") == "'-1" and compliance.csv_cell("@SUM(A1)") == "'@SUM(A1)"


def test_yearly_report_counts_anonymous_reports(
    db_session: Session, app: Flask, staff_client: Callable[..., FlaskClient]
) -> None:
    _case(db_session, "misstand", D(2024, 3, 1))
    _case(db_session, "misstand", D(2024, 4, 1)).anonymous = False
    _case(db_session, "omgangsvormen", D(2024, 5, 1))
    _case(db_session, "misstand", D(2023, 5, 1))
    db_session.commit()
    with app.test_request_context("/en/"):
        report = compliance.yearly_report(db_session, 2024, D(2025, 1, 1), "en")
    assert report.totals.received == 3 and report.anonymous == 2
    assert {(n.channel, n.category, n.received, n.anonymous) for n in report.nature} == {
        ("Suspected wrongdoing", "Fraud", 2, 1), ("Unwanted behaviour", "Bullying", 1, 1)}
    page = staff_client("compliance").get("/nl/compliance/report/2024").get_data(as_text=True)
    assert "Jaarverslag 2024" in page and "Pesten" in page


def test_admin_edits_policy_with_clear_errors(
    app: Flask, staff_client: Callable[..., FlaskClient], db_session: Session
) -> None:
    case = _case(db_session, "misstand", D(2025, 3, 3))
    db_session.commit()
    client = staff_client("admin")
    page = client.get("/nl/admin/policies/wbk").get_data(as_text=True)
    assert "feestdagen" in page  # the caveat about public holidays
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    bad = '[{"milestone": "acknowledge", "trigger": "posted", "days": 7}'
    response = client.post("/nl/admin/policies/wbk", data={"csrf_token": token, "name": "Wbk", "rules": bad})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "geen geldige JSON" in text
    assert "posted" in text  # what was typed is kept
    response = client.post("/nl/admin/policies/wbk", data={"csrf_token": token, "name": "Wbk", "rules": bad + "]"})
    assert "trigger" in response.get_data(as_text=True) and response.status_code == 200
    good = '[{"milestone": "acknowledge", "trigger": "received", "days": 5, "done_by": ["acknowledged"]}]'
    response = client.post("/nl/admin/policies/wbk", data={
        "csrf_token": token, "name": "Wbk (kort)", "rules": good, "shift_to_working_day": "y"})
    assert response.status_code == 302
    with db.session_scope(app) as session:
        policy = session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.slug == "wbk"))
        assert policy.shift_to_working_day and policy.rules[0]["days"] == 5
        dues = {m.kind: m.due_on for m in session.scalars(select(Milestone).where(Milestone.case_id == case.id))}
        assert dues == {"acknowledge": D(2025, 3, 10)}  # recomputed: 8 March is a Saturday -> Monday
    response = client.post("/nl/admin/policies/wbk/delete", data={"csrf_token": token})
    assert "ingebouwd" in response.get_data(as_text=True).lower()
    response = client.post("/nl/admin/policies/new", data={
        "csrf_token": token, "slug": "eigen-regeling", "name": "Eigen", "rules": good})
    assert response.status_code == 302
    assert client.post("/nl/admin/policies/eigen-regeling/delete", data={"csrf_token": token}).status_code == 302
    with db.session_scope(app) as session:
        assert session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.slug == "eigen-regeling")) is None
