"""The legal date at every hour, and no case without a reader (issue 14, items 1 and 2)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import Attachment, Case, Message, Milestone, Participant
from app.services import clock

from .conftest import count_rows, credentials, log_in, report_form, stored_files, submit_via_http


@pytest.mark.parametrize(("moment", "received", "dues"), [
    # 00:30 in Amsterdam in winter (CET, UTC+1): still the 14th in UTC.
    (datetime(2026, 1, 14, 23, 30, tzinfo=UTC), date(2026, 1, 15),
     {"acknowledge": date(2026, 1, 22), "feedback": date(2026, 4, 22)}),
    # 00:30 in Amsterdam in summer (CEST, UTC+2): still the 14th in UTC.
    (datetime(2026, 7, 14, 22, 30, tzinfo=UTC), date(2026, 7, 15),
     {"acknowledge": date(2026, 7, 22), "feedback": date(2026, 10, 22)}),
])
def test_a_report_sent_at_half_past_midnight_is_received_that_day(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, moment: datetime, received: date,
    dues: dict[str, date],
) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)
    response = submit_via_http(client, files=[])
    assert response.status_code == 200
    code, words = credentials(response.get_data(as_text=True))
    # The receipt promises the first due date of the Amsterdam day, not of the UTC one.
    month = {1: "januari", 7: "juli"}[received.month]
    assert f"{dues['acknowledge'].day} {month} {received.year}" in response.get_data(as_text=True)
    assert log_in(client, code, words).status_code == 303
    reply = client.post("/nl/brievenbus/bericht", data={"csrf_token": _token(client), "body": "Nog iets."},
                        content_type="multipart/form-data")
    assert reply.status_code in (200, 303)
    with db.session_scope(app) as session:
        case = session.scalars(select(Case)).one()
        assert case.received_on == received
        milestones = {m.kind: m.due_on for m in session.scalars(select(Milestone).where(Milestone.case_id == case.id))}
        assert milestones == dues
        assert {m.created_on for m in session.scalars(select(Message))} == {received}
    # The omgangsvormen channel (klachtenregeling, 14 days) at the same moment.
    other = app.test_client()
    assert submit_via_http(other, slug="omgangsvormen", category="pesten").status_code == 200
    with db.session_scope(app) as session:
        case = session.scalars(select(Case).where(Case.received_on == received, Case.id != "")).all()
        respond = session.scalars(select(Milestone).where(Milestone.kind == "respond")).one()
        assert len(case) == 2 and respond.due_on == date.fromordinal(received.toordinal() + 14)


def _token(client: FlaskClient) -> str:
    import re

    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/nl/brievenbus").get_data(as_text=True))
    assert found
    return found.group(1)


def test_a_channel_nobody_can_read_is_not_offered_and_refuses_reports(app: Flask, client: FlaskClient,
                                                                      no_reader: None) -> None:
    listing = client.get("/nl/melden").get_data(as_text=True)
    assert "/nl/melden/misstand" not in listing
    page = client.get("/nl/melden/misstand")
    assert "op dit moment niemand meldingen ontvangen" in page.get_data(as_text=True)
    text = "Onze manager laat onveilige steigers staan."
    response = submit_via_http(client, what=text, files=[])
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "er is niets opgeslagen" in html and text in html  # the text is kept on the page
    assert 'id="receipt-code"' not in html
    assert count_rows(app, Case) == 0 and count_rows(app, Participant) == 0 and count_rows(app, Attachment) == 0
    assert stored_files(app) == []


def test_a_channel_is_offered_again_once_someone_can_read_it(app: Flask, client: FlaskClient, add_recipient) -> None:  # type: ignore[no-untyped-def]
    assert "/nl/melden/misstand" not in client.get("/nl/melden").get_data(as_text=True)
    add_recipient("alice")
    assert "/nl/melden/misstand" in client.get("/nl/melden").get_data(as_text=True)
    assert "/nl/melden/omgangsvormen" not in client.get("/nl/melden").get_data(as_text=True)
    assert report_form(client, "/nl/melden/misstand")["recipients"]
