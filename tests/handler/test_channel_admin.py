"""Admins create channels with their categories, retire them, and never delete one that has cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import AuditEvent, Case, Channel

from .conftest import Member, csrf  # noqa: TID252

NEW = {"slug": "financien", "kind": "melding", "name_nl": "Financiële misstand", "name_en": "Financial wrongdoing",
       "description_nl": "Over geld.", "description_en": "About money.", "policy": "be-private",
       "categories": "fraude | Fraude | Fraud\nwitwassen | Witwassen | Money laundering"}


def _admin(app: Flask, make_member: Callable[..., Member], login: Callable[..., Any]) -> FlaskClient:
    client = app.test_client()
    login(client, make_member("adam", roles=("admin",)))
    return client


def test_create_a_channel_then_retire_it(app: Flask, make_member: Callable[..., Member],
                                        login: Callable[..., Any], make_case: Callable[..., Any]) -> None:
    admin = _admin(app, make_member, login)
    bad = admin.post("/nl/admin/channels/new", data={"csrf_token": csrf(admin, "/nl/admin/channels/new"),
                                                     **NEW, "slug": "misstand", "categories": "fraude Fraude"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "al in gebruik" in html and "Categorieregel 1" in html
    created = admin.post("/nl/admin/channels/new", data={"csrf_token": csrf(admin, "/nl/admin/channels/new"), **NEW})
    assert created.status_code == 302 and created.headers["Location"].endswith("/nl/admin/channels/financien")
    with db.session_scope(app) as session:
        channel = session.scalar(select(Channel).where(Channel.slug == "financien"))
        assert channel is not None and channel.policy.slug == "be-private" and channel.active
        assert channel.categories[1] == {"slug": "witwassen", "nl": "Witwassen", "en": "Money laundering"}
    reporter = app.test_client()
    assert "/nl/melden/financien" not in reporter.get("/nl/melden").get_data(as_text=True)  # no reader yet
    make_member("anna", channels=("financien",))
    assert "/nl/melden/financien" in reporter.get("/nl/melden").get_data(as_text=True)
    receipt = make_case(channel_slug="financien", category="witwassen")
    token = csrf(admin, "/nl/admin/")
    refused = admin.post("/nl/admin/channels/financien/delete", data={"csrf_token": token})
    assert refused.status_code == 400 and "kan daarom niet worden verwijderd" in refused.get_data(as_text=True)
    assert admin.post("/nl/admin/channels/financien/retire", data={"csrf_token": token}).status_code == 302
    assert "/nl/melden/financien" not in reporter.get("/nl/melden").get_data(as_text=True)
    assert reporter.get("/nl/melden/financien").status_code == 404
    with db.session_scope(app) as session:
        case = session.scalar(select(Case).where(Case.reference == receipt.reference))
        assert case is not None and case.channel.slug == "financien"  # the case keeps its channel
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.detail == "financien")))
        assert {"channel_created", "channel_retired"} <= actions


def test_a_channel_without_cases_can_be_deleted(app: Flask, make_member: Callable[..., Member],
                                               login: Callable[..., Any]) -> None:
    admin = _admin(app, make_member, login)
    admin.post("/nl/admin/channels/new", data={"csrf_token": csrf(admin, "/nl/admin/channels/new"), **NEW})
    deleted = admin.post("/nl/admin/channels/financien/delete", data={"csrf_token": csrf(admin, "/nl/admin/")})
    assert deleted.status_code == 302
    with db.session_scope(app) as session:
        assert session.scalar(select(Channel).where(Channel.slug == "financien")) is None
