"""Nothing typed is lost and one submission makes one case (HTTP level; the browser tests walk the same ways)."""

from __future__ import annotations

import io
import re

import itsdangerous
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import db
from app.models import Attachment, Case, Message, ReporterSession
from app.services import storage, submission
from app.services.limits import Busy
from app.services.submission import new_submission_token

from .conftest import (
    count_rows,
    credentials,
    csrf_token,
    log_in,
    multipart_body,
    stored_files,
    submit_form_data,
    submit_via_http,
)


def test_the_same_form_sent_twice_makes_one_case_and_stores_no_second_file(app: Flask, client: FlaskClient,
                                                                           reader: str) -> None:
    token, once = csrf_token(client, "/en/melden/misstand"), new_submission_token()
    body, content_type = multipart_body(
        [("csrf_token", token.encode()), ("once", once.encode()), ("category", b"fraude"), ("what", b"twice"),
         ("recipients", reader.encode())],
        [(b"proof.txt", b"evidence bytes")])
    first = client.post("/en/melden/misstand", data=body, content_type=content_type)
    assert first.status_code == 200 and credentials(first.get_data(as_text=True))
    files_after_first = sorted(stored_files(app))

    again = client.post("/en/melden/misstand", data=body, content_type=content_type)
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "already received" in html and "cannot show them again" in html
    assert 'id="receipt-code"' not in html and 'id="passphrase"' not in html
    assert count_rows(app, Case) == 1 and count_rows(app, Attachment) == 1
    assert sorted(stored_files(app)) == files_after_first
    assert "no-store" in again.headers["Cache-Control"]


def test_a_damaged_one_time_token_shows_the_form_again_with_the_text(app: Flask, client: FlaskClient) -> None:
    data = submit_form_data(csrf_token(client, "/nl/melden/misstand"), once="not a token", what="mijn tekst")
    response = client.post("/nl/melden/misstand", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "mijn tekst" in html and "niets opgeslagen" in html
    assert 'name="once" value="not a token"' not in html
    assert count_rows(app, Case) == 0


def test_an_expired_form_comes_back_with_its_text_and_a_fresh_token(app: Flask, client: FlaskClient, reader: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    token = csrf_token(client, "/nl/melden/misstand")
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: 10**10)  # hours later
    data = submit_form_data(token, what="Een lang verhaal van een uur typen.", recipients=[reader])
    response = client.post("/nl/melden/misstand", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Een lang verhaal van een uur typen." in html
    assert "verlopen" in html and count_rows(app, Case) == 0
    fresh = csrf_token(client, "/nl/melden/misstand")
    assert client.post("/nl/melden/misstand", data=submit_form_data(fresh, recipients=[reader]),
                       content_type="multipart/form-data").status_code == 200


def test_a_storage_failure_keeps_the_text_and_stores_nothing(app: Flask, client: FlaskClient,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.AttachmentWriter, "finish", disk_full)
    response = submit_via_http(client, "en", what="Kept despite a full disk.", files=[(io.BytesIO(b"x" * 10), "a.txt")])
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and "Kept despite a full disk." in html and "Nothing was saved" in html
    assert count_rows(app, Case) == 0 and stored_files(app) == []


@pytest.mark.parametrize(("path", "field", "data"), [
    ("/nl/brievenbus/bericht", "body", {"body": "Mijn lange antwoord."}),
    ("/nl/brievenbus/gesprek", "note", {"way": "phone", "note": "Liefst na vijven."}),
    ("/nl/brievenbus/identiteit", "identity", {"identity": "Jan Jansen, 06-12345678"}),
])
def test_a_mailbox_post_after_the_session_ended_shows_the_text_and_stores_nothing(
        app: Flask, client: FlaskClient, path: str, field: str, data: dict[str, str]) -> None:
    code, words = credentials(submit_via_http(client).get_data(as_text=True))
    assert log_in(client, code, words).status_code == 303
    token = csrf_token(client, "/nl/brievenbus")
    with db.session_scope(app) as session:  # the idle deadline passed: the session is gone
        session.query(ReporterSession).delete()
    messages = count_rows(app, Message)
    body = {"csrf_token": token, **data}
    response = client.post(path, data=body, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    text = data[field]
    assert response.status_code == 401 and "no-store" in response.headers["Cache-Control"]
    assert re.search(f'<textarea[^>]* id="unsent" name="unsent"[^>]*>\r\n{re.escape(text)}</textarea>', html)
    assert count_rows(app, Message) == messages and count_rows(app, Attachment) == 0

    token = csrf_token(client, "/nl/brievenbus/inloggen")
    back = client.post("/nl/brievenbus/inloggen", data={"csrf_token": token, "receipt_code": code,
                                                        "passphrase": words, "unsent": text, "unsent_kind": field})
    page = back.get_data(as_text=True)
    assert back.status_code == 200 and "Set-Cookie" in back.headers
    assert re.search(f'<textarea[^>]* id="{field}" name="{field}"[^>]*>\r\n{re.escape(text)}</textarea>', page)
    assert count_rows(app, Message) == messages  # shown back, not sent


def test_a_busy_server_keeps_the_text_and_the_one_time_token(app: Flask, client: FlaskClient,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(*args: object) -> None:
        raise Busy("submissions")

    monkeypatch.setattr(submission, "admit_report", busy)
    once = new_submission_token()
    response = submit_via_http(client, "en", what="Typed while the server was busy.", once=once)
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and "Typed while the server was busy." in html
    assert f'name="once" value="{once}"' in html  # sending again is still one report
    assert count_rows(app, Case) == 0


def test_a_mailbox_form_from_an_old_session_keeps_its_text(app: Flask, client: FlaskClient) -> None:
    code, words = credentials(submit_via_http(client).get_data(as_text=True))
    assert log_in(client, code, words).status_code == 303
    old_token = csrf_token(client, "/nl/brievenbus")
    assert log_in(client, code, words).status_code == 303  # logged in again (another tab): a new session
    messages = count_rows(app, Message)
    response = client.post("/nl/brievenbus/bericht", data={"csrf_token": old_token, "body": "Niet kwijtraken."},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "niets opgeslagen" in html
    assert re.search(r'<textarea[^>]* id="body" name="body"[^>]*>\r\nNiet kwijtraken.</textarea>', html)
    assert count_rows(app, Message) == messages


def test_mailbox_errors_are_listed_at_the_top_and_tied_to_their_fields(app: Flask, client: FlaskClient) -> None:
    code, words = credentials(submit_via_http(client, "en").get_data(as_text=True))
    assert log_in(client, code, words, "en").status_code == 303
    token = csrf_token(client, "/en/brievenbus")
    html = client.post("/en/brievenbus/gesprek", data={"csrf_token": token, "note": "mornings"}).get_data(as_text=True)
    summary = html.index('class="error-summary"')
    assert summary < html.index('id="way-error"') < html.index('id="way-0"')
    assert '<a href="#way-0">' in html[summary:html.index("</div>", summary)]
    assert 'aria-describedby="way-error"' in html and 'aria-invalid="true"' in html
    assert "mornings" in html  # the note stays
    html = client.post("/en/brievenbus/bericht", data={"csrf_token": token, "body": " "},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert '<a href="#body">' in html and 'aria-describedby="body-error body-hint"' in html


def test_the_same_form_sent_twice_at_once_is_recognised_by_the_primary_key(app: Flask, db_session, settings,  # type: ignore[no-untyped-def]
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import sample_report

    once = new_submission_token()
    first, second = submission.CaseDraft.start(settings), submission.CaseDraft.start(settings)
    assert first.name_after(settings, once) and second.name_after(settings, once)
    assert first.opened.case.id == second.opened.case.id == submission.case_id_for_token(settings, once)
    submission.finish_report(db_session, settings, first, sample_report())
    # The second request looked before the first committed (a race): only the INSERT can tell.
    real_get = type(db_session).get
    looked = []

    def get_before_the_first_commit(self, entity, ident, **kwargs):  # type: ignore[no-untyped-def]
        if entity is Case and not looked:
            looked.append(ident)
            return None
        return real_get(self, entity, ident, **kwargs)

    monkeypatch.setattr(type(db_session), "get", get_before_the_first_commit)
    with db.session_scope(app) as other_request, pytest.raises(submission.AlreadyReceived):
        submission.finish_report(other_request, settings, second, sample_report())
    assert looked and count_rows(app, Case) == 1


def test_the_language_switch_is_on_pages_shown_after_a_post(client: FlaskClient) -> None:
    error_page = client.post("/nl/melden/misstand", data=submit_form_data(
        csrf_token(client, "/nl/melden/misstand"), category=""), content_type="multipart/form-data")
    html = error_page.get_data(as_text=True)
    assert error_page.status_code == 400
    # A new window: the typed text on this page stays where it is.
    assert re.search(r'<a href="/en/melden/misstand" hreflang="en" lang="en" target="_blank" rel="noopener">', html)
    receipt = submit_via_http(client, "en").get_data(as_text=True)
    assert re.search(r'<a href="/nl/melden/misstand" hreflang="nl" lang="nl" target="_blank"', receipt)
    assert '<a href="/nl/routekaart" hreflang="nl" lang="nl">' in client.get("/en/routekaart").get_data(as_text=True)
