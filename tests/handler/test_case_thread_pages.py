"""A long thread opens a page at a time: the newest messages first, older pages by link, files per page."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from app import db
from app.models import Case, User
from app.services import cases, staff_auth, storage
from app.services.cases import THREAD_PAGE


def _messages_with_files(app: Flask, member_id: str, recovery_key: str, case_id: str, count: int) -> None:
    """`count` reporter messages "bericht 1" ... ; every tenth carries a file "bijlage-N.txt"."""
    with db.session_scope(app) as session:
        case = session.get(Case, case_id)
        assert case is not None
        user = session.get(User, member_id)
        assert user is not None
        opened = cases.open_as_handler(session, case, member_id,
                                       staff_auth.private_key_from_recovery(user, recovery_key))
        for number in range(1, count + 1):
            message = cases.add_message(session, opened, author_kind="reporter", body=f"bericht {number}.",
                                        day=date.today())
            if number % 10 == 0:
                writer = storage.begin_attachment(app.config["MELDKLUIS"].storage_path, opened)
                writer.write(b"inhoud")
                writer.finish(session, name=f"bijlage-{number}.txt", author_kind="reporter", day=date.today(),
                              message_id=message.id)


def test_long_thread_shows_newest_page_and_links_to_older(app: Flask, client: FlaskClient, make_member, login,
                                                          make_case) -> None:
    anna = make_member("anna")
    receipt = make_case(files=(("melding.pdf", b"%PDF"),))
    total = 2 * THREAD_PAGE + 5
    _messages_with_files(app, anna.id, anna.recovery_key, receipt.case_id, total)
    login(client, anna)
    page = f"/nl/handler/case/{receipt.reference}"

    newest = client.get(page).get_data(as_text=True)
    assert f"bericht {total}." in newest and f"bericht {2 * THREAD_PAGE + 1}." in newest
    assert f"bericht {2 * THREAD_PAGE}." not in newest and "bericht 1." not in newest
    assert "melding.pdf" in newest  # the report's own files on every page
    assert f"bijlage-{2 * THREAD_PAGE}.txt" not in newest
    assert "Pagina 3 van 3" in newest and f"{page}?thread=2#thread" in newest and "Nieuwere berichten" not in newest

    oldest = client.get(f"{page}?thread=1").get_data(as_text=True)
    assert "bericht 1." in oldest and f"bericht {THREAD_PAGE}." in oldest and f"bericht {THREAD_PAGE + 1}." not in oldest
    assert "bijlage-10.txt" in oldest and f"bijlage-{THREAD_PAGE + 10}.txt" not in oldest and "melding.pdf" in oldest
    assert "Oudere berichten" not in oldest and f"{page}?thread=2#thread" in oldest

    beyond = client.get(f"{page}?thread=99").get_data(as_text=True)
    assert f"bericht {total}." in beyond and "Pagina 3 van 3" in beyond


def test_short_thread_has_no_pages(app: Flask, client: FlaskClient, make_member, login, make_case) -> None:
    anna = make_member("anna")
    receipt = make_case()
    _messages_with_files(app, anna.id, anna.recovery_key, receipt.case_id, 3)
    login(client, anna)
    body = client.get(f"/nl/handler/case/{receipt.reference}").get_data(as_text=True)
    assert all(f"bericht {n}." in body for n in (1, 2, 3)) and "?thread=" not in body
