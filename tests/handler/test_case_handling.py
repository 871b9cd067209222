"""The inbox and the case page over HTTP: reading, attachments, every action, audit without content."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import AuditEvent, Case, Message, Milestone, Participant, User
from app.services import clock, handling
from app.services.limits import Limits

from .conftest import csrf_tokens  # noqa: TID252

SECRET_TEXT = "De manager declareert privé-etentjes."


def _post(client: FlaskClient, reference: str, action: str, **fields: str):  # type: ignore[no-untyped-def]
    page = f"/nl/handler/case/{reference}"
    prefix = action
    token = next(iter(csrf_tokens(client, page).values()))  # signed, bound to the session: any form's will do
    data = {f"{prefix}-csrf_token": token, **{f"{prefix}-{k}": v for k, v in fields.items()}}
    return client.post(f"{page}/{action}", data=data)


def test_inbox_sorts_by_nearest_deadline_and_marks_overdue(app: Flask, client: FlaskClient, make_member, login,
                                                           make_case) -> None:
    member = make_member("anna", channels=("misstand", "omgangsvormen"))
    old = make_case(day=date.today() - timedelta(days=10))
    fresh = make_case()
    complaint = make_case(channel_slug="omgangsvormen", category="pesten", fields={"what": "pesten"})
    login(client, member)
    body = client.get("/nl/handler/").get_data(as_text=True)
    assert body.index(old.reference) < body.index(fresh.reference) < body.index(complaint.reference)
    assert "te laat" in body and SECRET_TEXT not in body
    filtered = client.get("/nl/handler/?channel=omgangsvormen").get_data(as_text=True)
    assert complaint.reference in filtered and fresh.reference not in filtered
    assert old.reference not in client.get("/nl/handler/?category=pesten").get_data(as_text=True)
    with app.test_request_context(), db.session_scope(app) as session:
        listing = handling.inbox(session, member.id, "nl", date.today())
        assert [r.reference for r in listing.rows] == [old.reference, fresh.reference, complaint.reference]
        assert listing.rows[0].overdue and listing.rows[0].next_milestone == "acknowledge"
        assert not listing.rows[1].overdue


def test_case_page_attachments_and_every_action(app: Flask, client: FlaskClient, make_member, login,
                                                make_case) -> None:
    anna = make_member("anna")
    bert = make_member("bert", channels=())
    receipt = make_case(files=(("../../bewijs<script>.pdf", b"%PDF-1.4 secret evidence"),))
    login(client, anna)
    ref = receipt.reference
    page = client.get(f"/nl/handler/case/{ref}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and SECRET_TEXT in body and page.headers["Cache-Control"] == "no-store"
    link = body.split(f"/nl/handler/case/{ref}/attachment/")[1].split('"')[0]
    download = client.get(f"/nl/handler/case/{ref}/attachment/{link}")
    assert download.data == b"%PDF-1.4 secret evidence"
    assert download.mimetype == "application/octet-stream"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "/" not in disposition.split("filename=")[1].split(";")[0]

    assert _post(client, ref, "acknowledge", text="").status_code == 400
    assert _post(client, ref, "acknowledge", text="Ontvangen, dank u.").status_code == 302
    assert _post(client, ref, "acknowledge", text="Nogmaals").status_code == 400  # once only
    assert _post(client, ref, "reply", text="Wanneer begon dit?").status_code == 302
    assert _post(client, ref, "note", text="Interne notitie: controleer declaraties").status_code == 302
    assert _post(client, ref, "share", user_id=bert.id).status_code == 302
    assert _post(client, ref, "status", status="bogus").status_code == 400
    assert _post(client, ref, "status", status="in_progress").status_code == 302
    assert _post(client, ref, "feedback", text="We hebben het onderzocht.").status_code == 302
    assert _post(client, ref, "close", outcome="founded").status_code == 302
    assert _post(client, ref, "reply", text="Na sluiten").status_code == 400
    today = clock.today()
    with db.session_scope(app) as session:
        case = session.scalar(select(Case).where(Case.reference == ref))
        assert case is not None
        assert (case.status, case.outcome, case.acknowledged_on, case.feedback_on, case.closed_on) == (
            "closed", "founded", today, today, today)
        kinds = [m.kind for m in session.scalars(select(Message).where(Message.case_id == case.id)
                                                 .order_by(Message.counter))]
        assert kinds == ["acknowledgement", "message", "feedback"]
        done = {m.kind: m.done_on for m in session.scalars(select(Milestone).where(Milestone.case_id == case.id))}
        assert done["acknowledge"] == today and done["feedback"] == today
        assert session.scalar(select(Participant).where(Participant.case_id == case.id,
                                                        Participant.user_id == bert.id)) is not None
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)))
        actions = {e.action for e in events}
        assert {"acknowledged", "replied", "note_added", "shared", "status_changed", "feedback_recorded", "closed",
                "attachment_downloaded", "case_viewed"} <= actions
        assert all(e.user_id == anna.id for e in events)
        for e in events:
            assert "declar" not in e.detail and "onderzocht" not in e.detail
    # The shared handler opens it; the note is there for them.
    other = app.test_client()
    login(other, bert)
    shared = other.get(f"/nl/handler/case/{ref}").get_data(as_text=True)
    assert "Interne notitie: controleer declaraties" in shared and "We hebben het onderzocht." in shared


def test_share_refused_for_deselected_handler_and_shown(app: Flask, client: FlaskClient, make_member, login,
                                                        make_case) -> None:
    anna = make_member("anna")
    carl = make_member("carl")
    receipt = make_case(recipient_ids=[anna.id])
    login(client, anna)
    body = client.get(f"/nl/handler/case/{receipt.reference}").get_data(as_text=True)
    assert 'class="deselected">Carl<' in body
    refused = _post(client, receipt.reference, "share", user_id=carl.id)
    assert refused.status_code == 400 and "uitgezet" in refused.get_data(as_text=True)
    with db.session_scope(app) as session:
        assert session.scalar(select(Participant).where(Participant.user_id == carl.id)) is None
        assert session.get(User, carl.id) is not None


def test_handler_cannot_back_date(app: Flask, client: FlaskClient, make_member, login, make_case) -> None:
    anna = make_member("anna")
    receipt = make_case()
    login(client, anna)
    page = f"/nl/handler/case/{receipt.reference}"
    token = csrf_tokens(client, page)["acknowledge-csrf_token"]
    client.post(f"{page}/acknowledge", data={"acknowledge-csrf_token": token, "acknowledge-text": "ok", "day": "2020-01-01",
                                             "acknowledge-day": "2020-01-01"})
    with db.session_scope(app) as session:
        case = session.scalar(select(Case).where(Case.reference == receipt.reference))
        assert case is not None and case.acknowledged_on == clock.today()


def test_actions_leave_no_plaintext_in_the_database(app: Flask, client: FlaskClient, make_member, login,
                                                    make_case) -> None:
    from app.models import Base

    anna = make_member("anna")
    receipt = make_case()
    login(client, anna)
    ref = receipt.reference
    _post(client, ref, "acknowledge", text="Ontvangstzin-QX1")
    _post(client, ref, "reply", text="Antwoordzin-QX2")
    _post(client, ref, "note", text="Notitiezin-QX3")
    _post(client, ref, "feedback", text="Terugkoppelzin-QX4")
    with db.engine_of(app).connect() as connection:
        values = [v for t in Base.metadata.sorted_tables for r in connection.execute(select(t))
                  for v in r._mapping.values()]
    raw = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in values)
    for marker in (b"QX1", b"QX2", b"QX3", b"QX4", b"declareert"):
        assert marker not in raw
    assert b"Notitiezin-QX3" in client.get(f"/nl/handler/case/{ref}").get_data()


def test_disclosed_identity_is_marked(app: Flask, client: FlaskClient, make_member, login, make_case) -> None:
    anna = make_member("anna")
    plain = make_case()
    disclosed = make_case(identity="Jan Jansen, 06-12345678")
    login(client, anna)
    assert "bekendgemaakt door de melder" not in client.get(f"/nl/handler/case/{plain.reference}").get_data(
        as_text=True)
    page = client.get(f"/nl/handler/case/{disclosed.reference}").get_data(as_text=True)
    assert "bekendgemaakt door de melder" in page and "Jan Jansen, 06-12345678" in page


def test_reporter_message_marks_the_case_unread_until_opened(app: Flask, client: FlaskClient, make_member, login,
                                                             make_case) -> None:
    from app.services import mailbox as mailboxes

    anna = make_member("anna")
    receipt = make_case()
    login(client, anna)
    client.get(f"/nl/handler/case/{receipt.reference}")
    assert "ongelezen" not in client.get("/nl/handler/").get_data(as_text=True)
    with app.test_request_context(), db.session_scope(app) as session:
        settings = app.config["MELDKLUIS"]
        result = mailboxes.login(session, settings, receipt.receipt_code, receipt.passphrase,
                                 limits=Limits.in_memory())
        mailbox = mailboxes.resume(session, settings, result.cookie_value)
        assert mailbox is not None
        mailboxes.post_reply(session, settings, mailbox, "Nog een aanvulling", [])
    assert "ongelezen" in client.get("/nl/handler/").get_data(as_text=True)
    assert "Nog een aanvulling" in client.get(f"/nl/handler/case/{receipt.reference}").get_data(as_text=True)
    assert "ongelezen" not in client.get("/nl/handler/").get_data(as_text=True)
