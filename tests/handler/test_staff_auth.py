"""Accounts and login: setup and invitation links, TOTP (once per code), backoff, sessions, recovery."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import db
from app.cli import main
from app.models import HandlerSession, User, utcnow
from app.services import accounts, cases, staff_auth

from .conftest import PASSWORD, csrf  # noqa: TID252

SECRET = re.compile(r'name="secret" type="hidden" value="([A-Z2-7]+)"')
RECOVERY = re.compile(r'id="recovery-key">([^<]+)<')


def _count_sessions(app: Flask) -> int:
    with db.session_scope(app) as session:
        return int(session.scalar(select(func.count()).select_from(HandlerSession)) or 0)


def test_setup_link_creates_first_admin_with_totp_and_recovery_key(app: Flask, client: FlaskClient) -> None:
    with db.session_scope(app) as session:
        token = accounts.issue_link(session, "setup").token
    page = client.get(f"/nl/handler/setup/{token}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in body
    secret = SECRET.search(body).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": csrf(client, f"/nl/handler/setup/{token}"), "secret": secret, "username": "beheer",
            "display_name": "Beheer", "also_handler": "y", "password": "kort", "confirm": "kort",
            "code": pyotp.TOTP(secret).now()}
    refused = client.post(f"/nl/handler/setup/{token}", data=data)
    assert "Gebruik minstens 12 tekens" in refused.get_data(as_text=True) or "12" in refused.get_data(as_text=True)
    assert 'value="beheer"' in refused.get_data(as_text=True)  # nothing typed is lost
    data.update(password=PASSWORD, confirm=PASSWORD)
    done = client.post(f"/nl/handler/setup/{token}", data=data)
    recovery_key = RECOVERY.search(done.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    with db.session_scope(app) as session:
        admin = session.scalar(select(User).where(User.username == "beheer"))
        assert admin is not None and admin.roles == ["handler", "admin"] and admin.totp_secret == secret
        assert staff_auth.private_key_from_recovery(admin, recovery_key)
    assert client.get(f"/nl/handler/setup/{token}").status_code == 404  # used once


def test_invitation_from_admin_page_activates_account(app: Flask, client: FlaskClient, make_member, login) -> None:
    admin = make_member("admin", roles=("admin",))
    login(client, admin)
    token = csrf(client, "/nl/admin/users/new")
    page = client.post("/nl/admin/users/new", data={"csrf_token": token, "username": "kim", "display_name": "Kim",
                                                    "roles": ["handler", "compliance"]})
    link = re.search(r'id="activation-link">[^<]*(/nl/handler/activate/[\w-]+)<', page.get_data(as_text=True))
    assert link
    other = app.test_client()
    secret = SECRET.search(other.get(link.group(1)).get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": csrf(other, link.group(1)), "secret": secret, "password": PASSWORD, "confirm": PASSWORD,
            "code": "000000"}
    wrong = other.post(link.group(1), data=data)
    assert "code" in wrong.get_data(as_text=True).lower()
    data["code"] = pyotp.TOTP(secret).now()
    assert RECOVERY.search(other.post(link.group(1), data=data).get_data(as_text=True))
    with db.session_scope(app) as session:
        kim = session.scalar(select(User).where(User.username == "kim"))
        assert kim is not None and kim.activated and kim.roles == ["handler", "compliance"]


def test_login_sets_strict_cookie_and_code_is_accepted_once(app: Flask, client: FlaskClient, make_member) -> None:
    member = make_member("anna")
    data = {"csrf_token": csrf(client, "/nl/handler/login"), "username": "anna", "password": PASSWORD,
            "code": member.code()}
    response = client.post("/nl/handler/login", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/nl/handler/")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("mk_staff=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/" in cookie
    again = app.test_client()
    data["csrf_token"] = csrf(again, "/nl/handler/login")
    replay = again.post("/nl/handler/login", data=data)
    assert replay.status_code == 200 and "Inloggen mislukt" in replay.get_data(as_text=True)


def test_errors_are_uniform_and_failures_lock_the_account(app: Flask, client: FlaskClient, make_member) -> None:
    member = make_member("bert")
    now = utcnow()
    with app.test_request_context(), db.session_scope(app) as session:
        settings = app.config["MELDKLUIS"]
        messages = set()
        for name, password in (("nobody", PASSWORD), ("bert", "wrong password here"), ("bert", PASSWORD)):
            try:
                code = "123456" if name == "bert" and password == PASSWORD else member.code(now)
                staff_auth.login(session, settings, name, password, code, now)
            except staff_auth.LoginFailed as failure:
                messages.add(str(failure.message))
        assert len(messages) == 1
        for _ in range(5):
            with contextlib.suppress(staff_auth.LoginFailed):
                staff_auth.login(session, settings, "bert", "wrong password here", "", now)
        user = session.scalar(select(User).where(User.username == "bert"))
        assert user is not None and user.locked_until is not None and user.locked_until > now
        try:  # right password and code, but locked
            staff_auth.login(session, settings, "bert", PASSWORD, member.code(now), now)
            raise AssertionError("locked account logged in")
        except staff_auth.LoginFailed:
            pass
        later = user.locked_until + timedelta(seconds=1)
        assert staff_auth.login(session, settings, "bert", PASSWORD, member.code(later), later)


def test_account_made_with_password_enrols_totp_at_first_login(app: Flask, client: FlaskClient, cli) -> None:
    password_file = app.instance_path + "/pw.txt"
    with open(password_file, "w") as handle:
        handle.write(PASSWORD)
    result = cli.invoke(main, ["user", "add", "carla", "--role", "handler", "--password-file", password_file])
    assert result.exit_code == 0, result.output
    data = {"csrf_token": csrf(client, "/nl/handler/login"), "username": "carla", "password": PASSWORD, "code": ""}
    response = client.post("/nl/handler/login", data=data)
    assert response.status_code == 302 and "/nl/handler/enrol/" in response.headers["Location"]
    enrol_url = response.headers["Location"]
    page = client.get(enrol_url).get_data(as_text=True)
    secret = SECRET.search(page).group(1)  # type: ignore[union-attr]
    done = client.post(enrol_url, data={"csrf_token": csrf(client, enrol_url), "secret": secret,
                                        "password": PASSWORD, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and "mk_staff=" in done.headers["Set-Cookie"]
    assert client.get("/nl/handler/").status_code == 200


def test_logout_and_idle_timeout_destroy_the_session(app: Flask, client: FlaskClient, make_member, login) -> None:
    member = make_member("dirk")
    login(client, member)
    assert client.get("/nl/handler/").status_code == 200 and _count_sessions(app) == 1
    token = csrf(client, "/nl/handler/")
    assert client.post("/nl/handler/logout", data={"csrf_token": token}).status_code == 302
    assert _count_sessions(app) == 0
    assert client.get("/nl/handler/").status_code == 302
    login(client, member)
    with db.session_scope(app) as session:
        row = session.scalars(select(HandlerSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=app.config["MELDKLUIS"].handler_idle_minutes + 1)
    assert client.get("/nl/handler/").status_code == 302
    assert _count_sessions(app) == 0
    login(client, member)  # an abandoned session is removed at the next login of anyone
    with db.session_scope(app) as session:
        row = session.scalars(select(HandlerSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=app.config["MELDKLUIS"].handler_idle_minutes + 1)
    login(app.test_client(), member)
    assert _count_sessions(app) == 1


def test_password_change_rewraps_without_touching_cases(app: Flask, client: FlaskClient, make_member, login,
                                                        make_case) -> None:
    member = make_member("eva")
    receipt = make_case()
    with db.session_scope(app) as session:
        before = session.scalars(select(HandlerSession)).all()
        assert before == []
    login(client, member)
    new_password = "another long passphrase 456"
    page = client.post("/nl/handler/account", data={
        "pw-csrf_token": csrf(client, "/nl/handler/account", "pw-csrf_token"), "pw-current": PASSWORD,
        "pw-password": new_password, "pw-confirm": new_password})
    assert page.status_code == 302
    with app.test_request_context(), db.session_scope(app) as session:
        settings = app.config["MELDKLUIS"]
        user = session.get(User, member.id)
        assert user is not None
        started = staff_auth.login(session, settings, "eva", new_password, member.code(utcnow() + timedelta(seconds=30)),
                                   utcnow() + timedelta(seconds=30))
        assert isinstance(started, staff_auth.StartedSession)
        staff = staff_auth.load_staff(session, settings, started.cookie_value, utcnow())
        assert staff is not None
        case = session.get(cases.Case, receipt.case_id)
        assert cases.read_report(cases.open_as_handler(session, case, member.id, staff.private_key))["where"] == "inkoop"


def test_restore_with_recovery_key_by_cli_and_page(app: Flask, client: FlaskClient, make_member, cli) -> None:
    member = make_member("fleur")
    new_password = "fresh passphrase after loss"
    wrong = cli.invoke(main, ["user", "restore", "fleur"], input=f"AAAA-BBBB\n{new_password}\n{new_password}\n")
    assert wrong.exit_code != 0
    done = cli.invoke(main, ["user", "restore", "fleur"],
                      input=f"{member.recovery_key}\n{new_password}\n{new_password}\n")
    assert done.exit_code == 0, done.output
    with app.test_request_context(), db.session_scope(app) as session:
        now = utcnow()
        assert staff_auth.login(session, app.config["MELDKLUIS"], "fleur", new_password, member.code(now), now)
    third = "third passphrase after all"
    page = client.post("/nl/handler/restore", data={
        "csrf_token": csrf(client, "/nl/handler/restore"), "username": "fleur",
        "recovery_key": member.recovery_key.lower(), "password": third, "confirm": third})
    assert page.status_code == 200 and "Toegang hersteld" in page.get_data(as_text=True)


def test_private_key_file_download_needs_the_recovery_key(app: Flask, client: FlaskClient, make_member,
                                                          login) -> None:
    import crypto

    member = make_member("gert")
    login(client, member)
    token = csrf(client, "/nl/handler/account", "key-csrf_token")
    wrong = client.post("/nl/handler/account/key-file", data={"key-csrf_token": token, "key-recovery_key": "ABCD"})
    assert wrong.status_code == 200 and "herstelsleutel" in wrong.get_data(as_text=True)
    done = client.post("/nl/handler/account/key-file",
                       data={"key-csrf_token": token, "key-recovery_key": member.recovery_key})
    assert done.headers["Content-Disposition"].startswith("attachment;")
    private_key = crypto.load_private_key_file(done.data, member.recovery_key)
    with db.session_scope(app) as session:
        user = session.get(User, member.id)
        assert user is not None and crypto.public_key_of(private_key) == user.public_key
