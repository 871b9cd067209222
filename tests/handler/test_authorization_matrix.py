"""Every staff and reporter route, as every kind of visitor: the exact outcome of each cell.

Outcomes: a status code, "login" (302 to the staff login), "mailbox-login" (302 to the reporter's login)
or "back" (302 back to the case after an action). Content of a case appears only where a cell says "open".
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import Attachment
from app.services import mailbox as mailboxes
from app.services.limits import Limits

from .conftest import csrf_tokens  # noqa: TID252

VISITORS = ("handler_on_case", "handler_not_on_case", "handler_deselected", "compliance", "admin",
            "reporter_of_case", "reporter_of_other_case", "logged_out")
CASE_TEXT = "Geheime inhoud van zaak A"
OTHER_TEXT = "Inhoud van een andere zaak B"

# route -> outcome per visitor, in the order of VISITORS.
H, OFF, DES, COMP, ADM, REP, REP2, ANON = range(8)


def row(*outcomes: object) -> tuple[object, ...]:
    assert len(outcomes) == len(VISITORS)
    return outcomes


CASE_ROUTE = row(200, 404, 404, 403, 403, "login", "login", "login")
CASE_ACTION = row("back", 404, 404, 403, 403, "login", "login", "login")
STAFF_ONLY = row(200, 200, 200, 200, 200, "login", "login", "login")
HANDLER_ONLY = row(200, 200, 200, 403, 403, "login", "login", "login")
COMPLIANCE_ONLY = row(403, 403, 403, 200, 403, "login", "login", "login")
ADMIN_ONLY = row(403, 403, 403, 403, 200, "login", "login", "login")
PUBLIC = row(*([200] * 8))

MATRIX: dict[tuple[str, str], tuple[object, ...]] = {
    ("GET", "/nl/handler/login"): PUBLIC,
    ("GET", "/nl/handler/restore"): PUBLIC,
    ("GET", "/nl/handler/"): HANDLER_ONLY,
    ("GET", "/nl/handler/?status=new&channel=misstand&category=fraude&page=2"): HANDLER_ONLY,
    ("GET", "/nl/handler/account"): STAFF_ONLY,
    ("GET", "/nl/handler/case/{A}"): CASE_ROUTE,
    ("GET", "/en/handler/case/{A}"): CASE_ROUTE,
    ("GET", "/nl/handler/case/{A}/attachment/{att}"): CASE_ROUTE,
    ("GET", "/nl/handler/case/{A}/attachment/{other_att}"): row(404, 404, 404, 403, 403, "login", "login", "login"),
    ("GET", "/nl/handler/case/MK-NOSUCH"): row(404, 404, 404, 403, 403, "login", "login", "login"),
    ("POST", "/nl/handler/case/{A}/note"): CASE_ACTION,
    ("POST", "/nl/handler/case/{A}/reply"): CASE_ACTION,
    ("POST", "/nl/handler/case/{A}/acknowledge"): CASE_ACTION,
    ("POST", "/nl/handler/case/{A}/feedback"): CASE_ACTION,
    ("POST", "/nl/handler/case/{A}/status"): CASE_ACTION,
    ("POST", "/nl/handler/case/{A}/share"): row(400, 404, 404, 403, 403, "login", "login", "login"),
    ("POST", "/nl/handler/case/{A}/close"): CASE_ACTION,
    ("POST", "/nl/handler/case/{A}/hold"): CASE_ACTION,  # a closed case can be held: purge comes after closing
    ("POST", "/nl/handler/case/{A}/release"): CASE_ACTION,  # lifts the hold just set
    # Case A's reporter asked for no meeting (and it is closed by now): refused with a message, not hidden.
    ("POST", "/nl/handler/case/{A}/meeting"): row(400, 404, 404, 403, 403, "login", "login", "login"),
    ("GET", "/nl/compliance/"): COMPLIANCE_ONLY,
    ("GET", "/nl/compliance/register"): COMPLIANCE_ONLY,
    ("GET", "/nl/compliance/register.csv"): COMPLIANCE_ONLY,
    ("GET", "/nl/compliance/report/2026"): COMPLIANCE_ONLY,
    ("GET", "/nl/admin/"): ADMIN_ONLY,
    ("GET", "/nl/admin/users/new"): ADMIN_ONLY,
    ("GET", "/nl/admin/users/{anna}"): ADMIN_ONLY,
    ("GET", "/nl/admin/channels/misstand"): ADMIN_ONLY,
    ("GET", "/nl/admin/organisation"): ADMIN_ONLY,
    ("GET", "/nl/admin/policies"): ADMIN_ONLY,
    ("GET", "/nl/"): PUBLIC,
    ("GET", "/nl/brievenbus"): row(*(["mailbox-login"] * 5), 200, 200, "mailbox-login"),
    ("GET", "/nl/brievenbus/bijlage/{att}"): row(*(["mailbox-login"] * 5), 200, 404, "mailbox-login"),
}
# Where a visitor may see case A's content: its handler on the case's pages, its reporter in the mailbox.
MAY_READ_CASE_A = {H: {key for key in MATRIX if key[1].startswith("/nl/handler/case/{A}")
                       or key[1].startswith("/en/handler/case/{A}")},
                   REP: {("GET", "/nl/brievenbus"), ("GET", "/nl/brievenbus/bijlage/{att}")}}

ACTION_DATA = {"note": {"note-text": "notitie"}, "reply": {"reply-text": "antwoord"},
               "acknowledge": {"acknowledge-text": "ontvangen"}, "feedback": {"feedback-text": "terugkoppeling"},
               "status": {"status-status": "in_progress"}, "share": {"share-user_id": "nobody"},
               "close": {"close-outcome": "unfounded"}, "hold": {"hold-reason": "Lopende procedure"},
               "release": {"release-reason": "Procedure afgerond"}, "meeting": {}}


@dataclass
class World:
    values: dict[str, str]
    client: FlaskClient
    token: str


@pytest.fixture
def world(request: pytest.FixtureRequest, app: Flask, make_member, login, make_case) -> World:
    visitor = request.param
    staff = {
        "handler_on_case": make_member("anna"),
        "handler_deselected": make_member("carl"),
        "handler_not_on_case": make_member("otto", channels=()),
        "compliance": make_member("cora", roles=("compliance",)),
        "admin": make_member("adam", roles=("admin",)),
    }
    anna = staff["handler_on_case"]
    case_a = make_case(recipient_ids=[anna.id], fields={"what": CASE_TEXT}, files=(("a.pdf", CASE_TEXT.encode()),))
    case_b = make_case(fields={"what": OTHER_TEXT}, files=(("b.pdf", b"other file"),))
    with db.session_scope(app) as session:
        att = session.scalar(select(Attachment.id).where(Attachment.case_id == case_a.case_id))
        other_att = session.scalar(select(Attachment.id).where(Attachment.case_id == case_b.case_id))
    values = {"A": case_a.reference, "att": str(att), "other_att": str(other_att), "anna": anna.id}
    client = app.test_client()
    token = ""
    if visitor in staff:
        login(client, staff[visitor])
        token = next(iter(csrf_tokens(client, "/nl/handler/account").values()))
    elif visitor.startswith("reporter"):
        receipt = case_a if visitor == "reporter_of_case" else case_b
        with app.test_request_context(), db.session_scope(app) as session:
            result = mailboxes.login(session, app.config["MELDKLUIS"], receipt.receipt_code, receipt.passphrase,
                                     limits=Limits.in_memory())
        client.set_cookie(mailboxes.COOKIE_NAME, result.cookie_value)
    return World(values, client, token)


def _outcome(response) -> object:  # type: ignore[no-untyped-def]
    if response.status_code == 302 or response.status_code == 303:
        location = response.headers["Location"]
        if "/handler/login" in location:
            return "login"
        if "/brievenbus/inloggen" in location:
            return "mailbox-login"
        if "/handler/case/" in location:
            return "back"
        return f"302 {location}"
    return response.status_code


@pytest.mark.parametrize("world", VISITORS, indirect=True)
def test_matrix(world: World, request: pytest.FixtureRequest) -> None:
    visitor_index = VISITORS.index(request.node.callspec.params["world"])
    failures = []
    for (method, template), expected in MATRIX.items():
        path = template.format(**world.values)
        if method == "GET":
            response = world.client.get(path)
        else:
            action = path.rsplit("/", 1)[1]
            data = {f"{action}-csrf_token": world.token, **ACTION_DATA[action]}
            response = world.client.post(path, data=data)
        got = _outcome(response)
        if got != expected[visitor_index]:
            failures.append(f"{method} {template}: expected {expected[visitor_index]}, got {got}")
        body = response.get_data()
        may_read = (method, template) in MAY_READ_CASE_A.get(visitor_index, set())
        if not may_read:
            assert CASE_TEXT.encode() not in body, f"{method} {template} shows case A's content"
        assert OTHER_TEXT.encode() not in body or visitor_index == REP2, f"{method} {template} shows case B"
    assert failures == []
    if visitor_index in MAY_READ_CASE_A:
        page = "/nl/handler/case/{A}" if visitor_index == H else "/nl/brievenbus"
        assert CASE_TEXT.encode() in world.client.get(page.format(**world.values)).get_data()
