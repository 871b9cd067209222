"""The admin's audit log: filters by person, action and date, a CSV export, nothing about reporters."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import AuditEvent
from app.services import clock

from .conftest import Member, csrf_tokens  # noqa: TID252


def test_audit_log_filters_and_exports_staff_actions_only(
    app: Flask, make_member: Callable[..., Member], login: Callable[..., Any], make_case: Callable[..., Any],
) -> None:
    anna, bert = make_member("anna"), make_member("bert")
    receipt = make_case(fields={"what": "GEHEIM-KANARIE declaraties"})
    for member in (anna, bert):
        handler = app.test_client()
        login(handler, member)
        page = f"/nl/handler/case/{receipt.reference}"
        token = csrf_tokens(handler, page)["note-csrf_token"]
        handler.post(f"{page}/note", data={"note-csrf_token": token, "note-text": "GEHEIM-KANARIE notitie"})
    with db.session_scope(app) as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.user_id.is_(None))) is None  # no reporter line
    admin: FlaskClient = app.test_client()
    login(admin, make_member("adam", roles=("admin",)))
    everything = admin.get("/nl/admin/audit").get_data(as_text=True)
    assert "note_added" in everything and receipt.reference in everything and "GEHEIM-KANARIE" not in everything
    only_anna = admin.get(f"/nl/admin/audit?person={anna.id}&action=note_added").get_data(as_text=True)
    table = only_anna.split('id="audit"', 1)[1]
    assert table.count("<tr>") == 2 and "Anna" in table and "Bert" not in table  # header and one line
    today = clock.today()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert "Geen regels gevonden." in admin.get(f"/nl/admin/audit?from={tomorrow}").get_data(as_text=True)
    assert "note_added" in admin.get(f"/nl/admin/audit?from={today.isoformat()}&to={today.isoformat()}"
                                      ).get_data(as_text=True)
    exported = admin.get("/nl/admin/audit.csv?action=note_added")
    assert exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Tijd", "Persoon", "Handeling", "Zaak", "Toelichting"]
    assert sorted(row[1] for row in rows[1:]) == ["Anna", "Bert"] and all(row[3] == receipt.reference
                                                                           for row in rows[1:])
    assert "GEHEIM-KANARIE" not in exported.get_data(as_text=True)
    for role in (("handler",), ("compliance",)):
        other = app.test_client()
        login(other, make_member(f"x{role[0]}", roles=role, channels=()))
        assert other.get("/nl/admin/audit").status_code == 403
        assert other.get("/nl/admin/audit.csv").status_code == 403
