"""Every action the law names: a channel's policy, moving a case, the Awb extension (web and CLI).

Dates follow LAW.md's table: after a move the new policy counts from the ORIGINAL receipt date; Awb 9:11
decides within 6 weeks, +4 weeks for a committee, +4 more for an extension.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.cli import main
from app.models import AuditEvent, Case, Channel, Message, Milestone
from app.services import cases, clock
from app.services import mailbox as mailboxes
from app.services.limits import Limits

from .conftest import PASSWORD, Member, csrf, csrf_tokens  # noqa: TID252

RECEIVED = clock.today() - timedelta(days=10)


def _milestones(app: Flask, reference: str) -> dict[str, date]:
    with db.session_scope(app) as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        return {m.kind: m.due_on for m in session.scalars(select(Milestone).where(Milestone.case_id == case.id))
                if m.done_on is None}


def _reporter_thread(app: Flask, receipt: Any) -> list[tuple[str, str]]:
    with app.test_request_context("/nl/"), db.session_scope(app) as session:
        result = mailboxes.login(session, app.config["MELDKLUIS"], receipt.receipt_code, receipt.passphrase,
                                 limits=Limits.in_memory())
        box = mailboxes.resume(session, app.config["MELDKLUIS"], result.cookie_value)
        assert box is not None
        return [(item.kind, item.body) for item in cases.read_thread(session, box.opened)]


def _post(client: FlaskClient, reference: str, action: str, **fields: str) -> Any:
    path = f"/nl/handler/case/{reference}"
    token = csrf_tokens(client, path)[f"{action}-csrf_token"]
    return client.post(f"{path}/{action}", data={f"{action}-csrf_token": token,
                                                 **{f"{action}-{k}": v for k, v in fields.items()}})


def _set_policy(app: Flask, client: FlaskClient, slug: str, policy: str, recipients: list[str]) -> Any:
    path = f"/nl/admin/channels/{slug}"
    with db.session_scope(app) as session:
        channel = session.scalar(select(Channel).where(Channel.slug == slug))
        assert channel is not None
        texts = {"acknowledgement_nl": channel.acknowledgement_nl, "acknowledgement_en": channel.acknowledgement_en}
    return client.post(path, data={"csrf_token": csrf(client, path), "recipients": recipients, "policy": policy,
                                   **texts})


def test_admin_gives_a_channel_another_policy_and_open_cases_follow(
    app: Flask, make_member: Callable[..., Member], login: Callable[..., Any], make_case: Callable[..., Any],
) -> None:
    anna = make_member("anna", channels=("omgangsvormen",))
    receipt = make_case(channel_slug="omgangsvormen", category="pesten", day=RECEIVED)
    assert _milestones(app, receipt.reference) == {"respond": RECEIVED + timedelta(days=14)}
    admin = app.test_client()
    login(admin, make_member("adam", roles=("admin",)))
    page = admin.get("/nl/admin/channels/omgangsvormen").get_data(as_text=True)
    assert 'name="policy"' in page and "Awb 9:11" in page
    response = _set_policy(app, admin, "omgangsvormen", "awb-9", [anna.id])
    assert response.status_code == 302
    assert _milestones(app, receipt.reference) == {"decide": RECEIVED + timedelta(days=42)}
    with db.session_scope(app) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "channel_policy_changed"))
        assert event is not None and event.detail == "omgangsvormen: klachtenregeling-2w->awb-9"
    refused = _set_policy(app, admin, "omgangsvormen", "no-such-policy", [anna.id])
    assert refused.status_code == 200 and "Kies een termijnbeleid" in refused.get_data(as_text=True)


def test_handler_moves_a_case_and_the_clock_counts_from_the_original_receipt(
    app: Flask, make_member: Callable[..., Member], login: Callable[..., Any], make_case: Callable[..., Any],
) -> None:
    anna = make_member("anna", channels=("omgangsvormen",))
    receipt = make_case(channel_slug="omgangsvormen", category="pesten", day=RECEIVED)
    client = app.test_client()
    login(client, anna)
    empty = _post(client, receipt.reference, "move", channel="misstand", reason="")
    assert empty.status_code == 400 and "Geef een reden" in empty.get_data(as_text=True)
    response = _post(client, receipt.reference, "move", channel="misstand",
                     reason="Structurele intimidatie: een misstand")
    assert response.status_code == 302 and response.headers["Location"].endswith("#move-done")
    feedback_due = clock.add_period(RECEIVED, months=3, days=7)
    assert _milestones(app, receipt.reference) == {"acknowledge": RECEIVED + timedelta(days=7),
                                                   "feedback": feedback_due}
    with db.session_scope(app) as session:
        case = session.scalar(select(Case).where(Case.reference == receipt.reference))
        assert case is not None and case.channel.slug == "misstand" and case.received_on == RECEIVED
        assert case.category == "anders"  # "pesten" is no category of the new channel
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "case_moved"))
        assert event is not None and event.user_id == anna.id and event.case_id == case.id
        assert event.detail == "omgangsvormen->misstand: Structurele intimidatie: een misstand"
    kind, body = _reporter_thread(app, receipt)[-1]
    assert kind == "channel_moved" and "Vermoeden van een misstand" in body
    assert "Structurele intimidatie" in body and f"{feedback_due.day}" in body
    assert "Vermoeden van een misstand" in client.get(f"/nl/handler/case/{receipt.reference}").get_data(as_text=True)


def test_awb_extension_with_its_reason_shown_to_the_reporter(
    app: Flask, make_member: Callable[..., Member], login: Callable[..., Any], make_case: Callable[..., Any],
    cli: CliRunner,
) -> None:
    anna = make_member("anna", channels=("omgangsvormen",))
    assert cli.invoke(main, ["channel", "policy", "omgangsvormen", "awb-9"]).exit_code == 0
    receipt = make_case(channel_slug="omgangsvormen", category="pesten", day=RECEIVED)
    client = app.test_client()
    login(client, anna)
    page = client.get(f"/nl/handler/case/{receipt.reference}").get_data(as_text=True)
    assert 'value="decide:committee"' in page and 'value="decide:extension"' in page
    response = _post(client, receipt.reference, "extend", extension="decide:committee",
                     reason="Advies van de klachtencommissie")
    assert response.status_code == 302 and response.headers["Location"].endswith("#extend-done")
    assert _milestones(app, receipt.reference) == {"decide": RECEIVED + timedelta(days=70)}
    again = _post(client, receipt.reference, "extend", extension="decide:committee", reason="nogmaals")
    assert again.status_code == 400
    kind, body = _reporter_thread(app, receipt)[-1]
    assert kind == "deadline_extended" and "Advies van de klachtencommissie" in body
    # The same from the command line: the handler's password opens the case key for the mailbox message.
    result = cli.invoke(main, ["case", "extend", receipt.reference, "decide", "extension", "--user", "anna",
                               "--reason", "Aanvullend onderzoek"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert _milestones(app, receipt.reference) == {"decide": RECEIVED + timedelta(days=98)}
    assert (RECEIVED + timedelta(days=98)).isoformat() in result.output
    kind, body = _reporter_thread(app, receipt)[-1]
    assert kind == "deadline_extended" and "Aanvullend onderzoek" in body
    with db.session_scope(app) as session:
        details = [e.detail for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "milestone_extended", AuditEvent.user_id == anna.id))]
    assert len(details) == 2 and any("Aanvullend onderzoek" in d for d in details)
    wrong = cli.invoke(main, ["case", "extend", receipt.reference, "decide", "extension", "--user", "anna",
                              "--reason", "x"], input="wrong password\n")
    assert wrong.exit_code != 0


def test_cli_moves_a_case(app: Flask, make_member: Callable[..., Member], make_case: Callable[..., Any],
                          cli: CliRunner) -> None:
    make_member("anna", channels=("omgangsvormen",))
    receipt = make_case(channel_slug="omgangsvormen", category="pesten", day=RECEIVED)
    result = cli.invoke(main, ["case", "move", receipt.reference, "integriteit", "--user", "anna",
                               "--reason", "Integriteitsschending"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert _milestones(app, receipt.reference) == {"acknowledge": RECEIVED + timedelta(days=7),
                                                   "feedback": clock.add_period(RECEIVED, months=3, days=7)}
    with db.session_scope(app) as session:
        assert session.scalar(select(Message.kind).order_by(Message.counter.desc()).limit(1)) == "channel_moved"
    bad = cli.invoke(main, ["case", "move", receipt.reference, "nope", "--user", "anna", "--reason", "x"],
                     input=f"{PASSWORD}\n")
    assert bad.exit_code != 0
    assert re.search(r"another channel|ander kanaal", bad.output)
