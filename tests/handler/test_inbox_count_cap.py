"""The inbox counts a handler's cases only up to a cap, so its cost does not grow with a long history."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import db
from app.services import handling


def test_beyond_the_cap_the_inbox_says_more_than(app: Flask, client: FlaskClient, make_member, login, make_case,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    member = make_member("anna")
    references = {make_case().reference for _ in range(5)}
    monkeypatch.setattr(handling, "COUNT_CAP", 3)
    with app.test_request_context(), db.session_scope(app) as session:
        listing = handling.inbox(session, member.id, "nl", date.today())
        assert listing.more and listing.total == 3
        assert {row.reference for row in listing.rows} == references  # every case is still listed
        filtered = handling.inbox(session, member.id, "nl", date.today(), status="new")
        assert filtered.more and filtered.total == 3
    login(client, member)
    body = client.get("/nl/handler/").get_data(as_text=True)
    assert "Meer dan 3 zaken" in body and "Pagina 1" in body and "Pagina 1 van" not in body
    assert all(reference in body for reference in references)


def test_under_the_cap_the_count_is_exact(app: Flask, client: FlaskClient, make_member, login, make_case) -> None:
    member = make_member("anna")
    for _ in range(2):
        make_case()
    with app.test_request_context(), db.session_scope(app) as session:
        listing = handling.inbox(session, member.id, "nl", date.today())
    assert not listing.more and listing.total == 2 and listing.pages == 1
    login(client, member)
    assert "2 zaken" in client.get("/nl/handler/").get_data(as_text=True)
