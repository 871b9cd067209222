"""Each shipped channel's acknowledgement states its own deadline and noun; the admin sees the promised date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import db
from app.models import Channel
from app.services import clock
from app.services.defaults import ACKNOWLEDGEMENT_EN, ACKNOWLEDGEMENT_NL, ensure_defaults

from .conftest import Member  # noqa: TID252


def _texts(app: Flask) -> dict[str, tuple[str, str]]:
    with db.session_scope(app) as session:
        return {c.slug: (c.acknowledgement_nl, c.acknowledgement_en) for c in session.scalars(select(Channel))}


def test_each_channel_promises_its_own_term_with_its_own_noun(app: Flask) -> None:
    texts = _texts(app)
    for slug in ("misstand", "integriteit"):
        nl, en = texts[slug]
        assert "drie maanden" in nl and "melding" in nl and "three months" in en
    nl, en = texts["omgangsvormen"]
    assert "twee weken" in nl and "klacht" in nl and "melding" not in nl and "drie maanden" not in nl
    assert "two weeks" in en and "complaint" in en
    nl, en = texts["vertrouwenspersoon"]
    assert "twee weken" in nl and "vraag" in nl and "melding" not in nl and "klacht" not in nl
    assert "question" in en and "report" not in en


def test_the_old_generic_text_is_replaced_but_an_admins_text_is_kept(app: Flask) -> None:
    with db.session_scope(app) as session:
        channels = {c.slug: c for c in session.scalars(select(Channel))}
        channels["omgangsvormen"].acknowledgement_nl = ACKNOWLEDGEMENT_NL
        channels["omgangsvormen"].acknowledgement_en = ACKNOWLEDGEMENT_EN
        channels["vertrouwenspersoon"].acknowledgement_nl = "Eigen tekst van de beheerder."
    with db.session_scope(app) as session:
        ensure_defaults(session)
    texts = _texts(app)
    assert "twee weken" in texts["omgangsvormen"][0] and "two weeks" in texts["omgangsvormen"][1]
    assert texts["vertrouwenspersoon"][0] == "Eigen tekst van de beheerder."


@pytest.mark.parametrize(("slug", "promise"), [
    ("misstand", ("Terugkoppeling", date(2026, 5, 14))),  # Wbk: 3 months after the acknowledgement
    ("omgangsvormen", ("Reactie", date(2026, 2, 28))),  # klachtenregeling: 14 days after receipt
])
def test_the_admin_text_editor_shows_the_date_the_policy_promises(
    app: Flask, make_member: Callable[..., Member], login: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
    slug: str, promise: tuple[str, date],
) -> None:
    monkeypatch.setattr(clock, "today", lambda moment=None: date(2026, 2, 14))
    client = app.test_client()
    login(client, make_member("adam", roles=("admin",)))
    page = client.get(f"/nl/admin/channels/{slug}").get_data(as_text=True)
    box = page.split('id="promised"', 1)[1].split("</div>", 1)[0]
    label, due = promise
    months = {2: "februari", 5: "mei"}
    assert "14 februari 2026" in box
    assert f"{label}: <strong>{due.day} {months[due.month]} {due.year}</strong>" in box
