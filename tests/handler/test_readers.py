"""No case without a reader: the first admin-handler, the refused deactivation, the admin's warnings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import Channel, ChannelRecipient, User
from app.services import accounts, administration
from app.services.defaults import BUILTIN_CHANNELS

from .conftest import PASSWORD, Member, csrf  # noqa: TID252


def _recipients(app: Flask) -> dict[str, set[str]]:
    with db.session_scope(app) as session:
        rows = session.execute(select(Channel.slug, ChannelRecipient.user_id).join(ChannelRecipient)).all()
    result: dict[str, set[str]] = {}
    for slug, user_id in rows:
        result.setdefault(slug, set()).add(user_id)
    return result


def test_the_first_admin_handler_receives_every_shipped_channel(app: Flask) -> None:
    kdf = app.config["MELDKLUIS"].handler_kdf
    with app.test_request_context(), db.session_scope(app) as session:
        admin_only = accounts.create_user(session, "ada", ["admin"])
        accounts.activate_user(session, admin_only, PASSWORD, kdf)
        first = accounts.create_user(session, "fien", ["admin", "handler"])
        accounts.activate_user(session, first, PASSWORD, kdf)
        second = accounts.create_user(session, "gert", ["admin", "handler"])
        accounts.activate_user(session, second, PASSWORD, kdf)
        first_id = first.id
    recipients = _recipients(app)
    assert set(recipients) == {spec["slug"] for spec in BUILTIN_CHANNELS}
    assert all(users == {first_id} for users in recipients.values())


def _admin_client(app: Flask, make_member: Callable[..., Member], login: Callable[..., Any]) -> FlaskClient:
    admin = make_member("adam", roles=("admin",))
    client = app.test_client()
    login(client, admin)
    return client


def test_the_last_key_holder_of_an_open_case_cannot_be_deactivated(
    app: Flask, make_member: Callable[..., Member], login: Callable[..., Any], make_case: Callable[..., Any],
) -> None:
    anna, bert = make_member("anna"), make_member("bert")
    receipt = make_case(recipient_ids=[anna.id])
    client = _admin_client(app, make_member, login)
    path = f"/nl/admin/users/{anna.id}"
    response = client.post(path, data={"csrf_token": csrf(client, path), "display_name": "Anna", "roles": ["handler"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and receipt.reference in html and "Deel elke zaak eerst" in html
    # Taking away the handler role strands the case just the same.
    response = client.post(path, data={"csrf_token": csrf(client, path), "display_name": "Anna",
                                       "roles": ["compliance"], "active": "y"})
    assert receipt.reference in response.get_data(as_text=True)
    with db.session_scope(app) as session:
        user = session.get(User, anna.id)
        assert user is not None and user.active and user.is_handler
        assert administration.cases_only_readable_by(session, bert.id) == []
        assert administration.cases_only_readable_by(session, anna.id) == [receipt.reference]
    # Bert may go (he holds no key of an open case only he can read), and once Anna shares, so may she.
    response = client.post(f"/nl/admin/users/{bert.id}", data={
        "csrf_token": csrf(client, f"/nl/admin/users/{bert.id}"), "display_name": "Bert", "roles": ["handler"]})
    assert response.status_code == 302


def test_sharing_the_case_allows_the_deactivation(
    app: Flask, make_member: Callable[..., Member], login: Callable[..., Any], make_case: Callable[..., Any],
) -> None:
    anna, bert = make_member("anna"), make_member("bert", channels=())
    receipt = make_case()
    handler = app.test_client()
    login(handler, anna)
    case_path = f"/nl/handler/case/{receipt.reference}"
    tokens = handler.get(case_path).get_data(as_text=True)
    import re

    token = re.search(r'name="share-csrf_token" type="hidden" value="([^"]+)"', tokens)
    assert token
    shared = handler.post(f"{case_path}/share", data={"share-csrf_token": token.group(1), "share-user_id": bert.id,
                                                          "share-confirmed": "1"})
    assert shared.status_code in (302, 303)
    client = _admin_client(app, make_member, login)
    path = f"/nl/admin/users/{anna.id}"
    response = client.post(path, data={"csrf_token": csrf(client, path), "display_name": "Anna", "roles": ["handler"]})
    assert response.status_code == 302
    with db.session_scope(app) as session:
        user = session.get(User, anna.id)
        assert user is not None and not user.active


def test_admin_pages_warn_about_channels_with_fewer_than_two_readers(
    app: Flask, make_member: Callable[..., Member], login: Callable[..., Any],
) -> None:
    make_member("anna", channels=("misstand", "integriteit"))
    make_member("bert", channels=("misstand",))
    client = _admin_client(app, make_member, login)
    overview = client.get("/nl/admin/").get_data(as_text=True)
    warning = overview.split('id="reader-warning"', 1)[1].split("</div>", 1)[0]
    assert "Integriteitsschending (1)" in warning and "Ongewenste omgangsvormen (0)" in warning
    assert "Vermoeden van een misstand" not in warning
    assert 'id="reader-warning"' not in client.get("/nl/admin/channels/misstand").get_data(as_text=True)
    assert "Slechts één persoon" in client.get("/nl/admin/channels/integriteit").get_data(as_text=True)
    assert "Niemand kan meldingen" in client.get("/nl/admin/channels/omgangsvormen").get_data(as_text=True)
