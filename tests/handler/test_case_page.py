"""The case page shows what is due: labelled answers, days left or late, the disclosure-risk banner,
results at their anchor, confirmation before what cannot be undone."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.services import clock

from .conftest import Member, csrf_tokens  # noqa: TID252

ANSWERS = {"what": "Declaraties worden vervalst.", "when": "", "where": "   ", "who": "De teamleider",
           "how_known": "", "ongoing": "yes", "evidence": ""}


def _page(client: FlaskClient, reference: str, lang: str = "nl") -> str:
    return client.get(f"/{lang}/handler/case/{reference}").get_data(as_text=True)


def test_answers_under_their_labels_in_the_handlers_language(
    app: Flask, client: FlaskClient, make_member: Callable[..., Member], login: Callable[..., Any],
    make_case: Callable[..., Any],
) -> None:
    anna = make_member("anna")
    receipt = make_case(fields=ANSWERS)
    login(client, anna)
    html = _page(client, receipt.reference)
    report = html.split("<h2>Melding</h2>", 1)[1].split("<h2>", 1)[0]
    headings = re.findall(r"<h3>([^<]*)</h3>", report)
    assert headings == ["Wat is er gebeurd?", "Wie zijn erbij betrokken?", "Gaat het nog door?"]
    assert "<pre class=\"report-text\">Ja</pre>" in report
    for key in ANSWERS:
        assert f"<h3>{key}</h3>" not in html
    english = _page(client, receipt.reference, "en")
    assert "<h3>What happened?</h3>" in english and "<pre class=\"report-text\">Yes</pre>" in english


def test_overdue_milestones_show_days_late_and_the_disclosure_risk(
    app: Flask, client: FlaskClient, make_member: Callable[..., Member], login: Callable[..., Any],
    make_case: Callable[..., Any],
) -> None:
    anna = make_member("anna")
    received = clock.today() - timedelta(days=102)  # acknowledgement 95 days late, feedback a few
    feedback_late = (clock.today() - clock.add_period(received, months=3, days=7)).days
    assert feedback_late > 1
    old = make_case(day=received)
    new = make_case(day=clock.today() - timedelta(days=4))
    login(client, anna)
    html = _page(client, old.reference)
    assert 'id="disclosure-risk"' in html and "Risico op openbaarmaking" in html
    acknowledge = html.split('id="milestone-acknowledge"', 1)[1].split("</tr>", 1)[0]
    assert '<span class="overdue">95 dagen te laat</span>' in acknowledge
    feedback = html.split('id="milestone-feedback"', 1)[1].split("</tr>", 1)[0]
    assert f'<span class="overdue">{feedback_late} dagen te laat</span>' in feedback
    fresh = _page(client, new.reference)
    assert 'id="disclosure-risk"' not in fresh
    assert '<span class="soon">nog 3 dagen</span>' in fresh.split('id="milestone-acknowledge"', 1)[1]
    inbox = client.get("/nl/handler/").get_data(as_text=True)
    assert "95 dagen te laat" in inbox and '<span class="soon">nog 3 dagen</span>' in inbox


def test_each_action_opens_the_page_at_its_result(
    app: Flask, client: FlaskClient, make_member: Callable[..., Member], login: Callable[..., Any],
    make_case: Callable[..., Any],
) -> None:
    anna = make_member("anna")
    receipt = make_case()
    login(client, anna)
    page = f"/nl/handler/case/{receipt.reference}"
    html = _page(client, receipt.reference)
    for form in re.findall(r'<form method="post" id="([a-z]+)"[^>]*action="([^"]+)"', html):
        assert form[1].endswith(f"#{form[0]}"), form  # an error page opens at its form
    token = csrf_tokens(client, page)["reply-csrf_token"]
    empty = client.post(f"{page}/reply", data={"reply-csrf_token": token, "reply-text": ""})
    assert empty.status_code == 400
    form = empty.get_data(as_text=True).split('id="reply"', 1)[1].split("</form>", 1)[0]
    assert 'role="alert">Schrijf eerst een tekst.' in form
    sent = client.post(f"{page}/reply", data={"reply-csrf_token": token, "reply-text": "Wanneer was dit?"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("?done=reply#reply-done")
    after = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'id="reply-done">Uw antwoord staat in de brievenbus van de melder.' in after
    assert after.index("Wanneer was dit?") < after.index('id="reply-done"')  # right under the new message
