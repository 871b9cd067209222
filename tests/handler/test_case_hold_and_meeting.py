"""Handler actions on the case page: legal hold (with a reason, audited) and recording a held meeting."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import AuditEvent, Case, Milestone
from app.services import clock

from .conftest import csrf_tokens  # noqa: TID252


def _post(client: FlaskClient, reference: str, action: str, **fields: str):  # type: ignore[no-untyped-def]
    page = f"/nl/handler/case/{reference}"
    token = next(iter(csrf_tokens(client, page).values()))
    return client.post(f"{page}/{action}", data={f"{action}-csrf_token": token,
                                                  **{f"{action}-{k}": v for k, v in fields.items()}})


def _case(app: Flask, reference: str) -> Case:
    with db.session_scope(app) as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        session.expunge(case)
        return case


def _audit(app: Flask, case_id: str) -> list[tuple[str, str | None, str]]:
    with db.session_scope(app) as session:
        return [(e.action, e.user_id, e.detail) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action.like("legal_hold%")))]


def test_legal_hold_needs_a_reason_is_shown_audited_and_lifted(
    app: Flask, client: FlaskClient, make_member, login, make_case  # type: ignore[no-untyped-def]
) -> None:
    anna = make_member("anna")
    receipt = make_case()
    login(client, anna)
    ref = receipt.reference
    page = client.get(f"/nl/handler/case/{ref}").get_data(as_text=True)
    assert "Juridische bewaarplicht instellen" in page and f"/nl/handler/case/{ref}/hold" in page

    refused = _post(client, ref, "hold", reason="   ")
    assert refused.status_code == 400
    assert "Geef een reden voor de juridische bewaarplicht." in refused.get_data(as_text=True)
    assert not _case(app, ref).legal_hold

    assert _post(client, ref, "hold", reason="Lopende rechtszaak").status_code == 302
    held = _case(app, ref)
    assert held.legal_hold and held.legal_hold_reason == "Lopende rechtszaak"
    page = client.get(f"/nl/handler/case/{ref}").get_data(as_text=True)
    assert "Lopende rechtszaak" in page and "Juridische bewaarplicht opheffen" in page
    assert f"/nl/handler/case/{ref}/release" in page and f"/nl/handler/case/{ref}/hold\"" not in page

    assert _post(client, ref, "release", reason="").status_code == 400
    assert _case(app, ref).legal_hold
    assert _post(client, ref, "release", reason="Zaak geschikt").status_code == 302
    released = _case(app, ref)
    assert not released.legal_hold and released.legal_hold_reason is None
    assert _post(client, ref, "release", reason="Nogmaals").status_code == 400  # nothing to lift
    assert sorted(_audit(app, held.id)) == [("legal_hold_cleared", anna.id, "Zaak geschikt"),
                                            ("legal_hold_set", anna.id, "Lopende rechtszaak")]


def test_meeting_held_is_recorded_on_the_server_date(
    app: Flask, client: FlaskClient, make_member, login, make_case  # type: ignore[no-untyped-def]
) -> None:
    anna = make_member("anna")
    receipt = make_case()
    login(client, anna)
    ref = receipt.reference
    refused = _post(client, ref, "meeting")
    assert refused.status_code == 400 and "niet om een gesprek gevraagd" in refused.get_data(as_text=True)
    assert "Gesprek gevoerd" not in client.get(f"/nl/handler/case/{ref}").get_data(as_text=True)

    today = clock.today()
    with db.session_scope(app) as session:  # what the reporter's mailbox does when they ask
        case = session.scalar(select(Case).where(Case.reference == ref))
        assert case is not None
        clock.on_meeting_requested(session, case, today)
    page = client.get(f"/nl/handler/case/{ref}").get_data(as_text=True)
    assert "Gesprek gevoerd" in page and f"/nl/handler/case/{ref}/meeting" in page

    token = next(iter(csrf_tokens(client, f"/nl/handler/case/{ref}").values()))
    response = client.post(f"/nl/handler/case/{ref}/meeting",
                           data={"meeting-csrf_token": token, "meeting-day": "2020-01-01"})  # no back-dating
    assert response.status_code == 302
    with db.session_scope(app) as session:
        case_id = _case(app, ref).id
        meeting = session.scalar(select(Milestone).where(Milestone.case_id == case_id, Milestone.kind == "meeting"))
        assert meeting is not None and meeting.done_on == today <= meeting.due_on
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id))]
        assert actions.count("meeting_held") == 1
    assert "Gesprek gevoerd" not in client.get(f"/nl/handler/case/{ref}").get_data(as_text=True)
    again = _post(client, ref, "meeting")
    assert again.status_code == 400 and "al vastgelegd" in again.get_data(as_text=True)
