"""A channel asks its own questions: the admin chooses which standard questions and whether each is required,
and adds new ones in Dutch and English; the form, the validation, the case page and the offline opener follow."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import db
from app.models import Channel
from app.services import channels, submission
from app.services.export import readable_labels

from .conftest import Member, csrf  # noqa: TID252

QUESTIONS = "what | required\nongoing | optional\nbedrag | verplicht | Om welk bedrag gaat het? | What amount is involved?"
NEW = {"slug": "financien", "kind": "melding", "name_nl": "Financiële misstand", "name_en": "Financial wrongdoing",
       "description_nl": "Over geld.", "description_en": "About money.", "policy": "wbk",
       "categories": "fraude | Fraude | Fraud", "questions": QUESTIONS}
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _new_channel(app: Flask, make_member: Callable[..., Member], login: Callable[..., Any], **changes: str) -> Any:
    admin = app.test_client()
    login(admin, make_member("adam", roles=("admin",)))
    return admin, admin.post("/nl/admin/channels/new",
                             data={"csrf_token": csrf(admin, "/nl/admin/channels/new"), **NEW, **changes})


@pytest.mark.parametrize(("questions", "problem"), [
    ("when | optional", "Maak minstens één vraag verplicht"),
    ("what | maybe", "Vraagregel 1"),
    ("what | required\nbedrag | optional | Alleen Nederlands", "Vraagregel 2"),
    ("what | required\nwhat | optional", "Vraagregel 2: de sleutel komt twee keer voor"),
])
def test_bad_question_lines_are_refused_in_words(app: Flask, make_member, login, questions: str,
                                                 problem: str) -> None:
    _admin, response = _new_channel(app, make_member, login, questions=questions)
    assert response.status_code == 200 and problem in response.get_data(as_text=True)
    with db.session_scope(app) as session:
        assert session.scalar(select(Channel).where(Channel.slug == "financien")) is None


def test_a_channel_with_its_own_questions_from_form_to_case_page(app: Flask, make_member, login, make_case) -> None:
    admin, created = _new_channel(app, make_member, login)
    assert created.status_code == 302
    with db.session_scope(app) as session:
        channel = session.scalar(select(Channel).where(Channel.slug == "financien"))
        assert channel is not None and channel.questions == [
            {"key": "what", "required": True, "nl": "", "en": ""},
            {"key": "ongoing", "required": False, "nl": "", "en": ""},
            {"key": "q_bedrag", "required": True, "nl": "Om welk bedrag gaat het?", "en": "What amount is involved?"},
        ]
        standard = session.scalar(select(Channel).where(Channel.slug == "misstand"))
        assert standard is not None and standard.questions is None  # existing channels keep today's questions
        assert submission.channel_questions(standard) == submission.QUESTIONS
    assert "Om welk bedrag gaat het? <span class=\"muted\">(verplicht)" in admin.get(
        "/nl/admin/channels/financien").get_data(as_text=True)
    anna = make_member("anna", channels=("financien",))

    reporter = app.test_client()
    form_nl = reporter.get("/nl/melden/financien").get_data(as_text=True)
    assert "Om welk bedrag gaat het?" in form_nl and "Wat is er gebeurd?" in form_nl
    assert 'name="q_bedrag"' in form_nl and 'name="where"' not in form_nl and "Waar is het gebeurd?" not in form_nl
    form_en = reporter.get("/en/melden/financien").get_data(as_text=True)
    assert "What amount is involved?" in form_en and "Om welk bedrag" not in form_en

    def post(**fields: str) -> Any:
        html = reporter.get("/nl/melden/financien").get_data(as_text=True)
        token = TOKEN.search(html)
        assert token
        data = {"csrf_token": token.group(1), "once": submission.new_submission_token(), "category": "fraude",
                "recipients": [anna.id], "files": [], **fields}
        return reporter.post("/nl/melden/financien", data=data, content_type="multipart/form-data")

    missing = post(what="Er verdwijnt geld uit de kas.")
    html = missing.get_data(as_text=True)
    assert missing.status_code == 400 and "Om welk bedrag gaat het?: Beantwoord deze vraag" in html
    assert "Er verdwijnt geld uit de kas." in html  # nothing typed is lost
    sent = post(what="Er verdwijnt geld uit de kas.", q_bedrag="ongeveer 4.000 euro", ongoing="no",
                where="a question this channel does not ask")
    assert sent.status_code == 200 and "receipt-code" in sent.get_data(as_text=True)

    with db.session_scope(app) as session:
        from app.models import Case
        case = session.scalar(select(Case).join(Channel).where(Channel.slug == "financien"))
        assert case is not None
        reference = case.reference
    login(handler := app.test_client(), anna)
    page = handler.get(f"/nl/handler/case/{reference}").get_data(as_text=True)
    assert "Om welk bedrag gaat het?" in page and "ongeveer 4.000 euro" in page
    assert "a question this channel does not ask" not in page  # only the channel's questions are sealed
    english = handler.get(f"/en/handler/case/{reference}").get_data(as_text=True)
    assert "What amount is involved?" in english

    with app.app_context(), db.session_scope(app) as session:
        channel = session.scalar(select(Channel).where(Channel.slug == "financien"))
        labels = readable_labels(reference, submission.channel_questions(channel), "nl")
    assert [k for k in labels if k.startswith("question.")] == ["question.what", "question.ongoing",
                                                                 "question.q_bedrag"]
    assert labels["question.q_bedrag"] == "Om welk bedrag gaat het?"


def test_required_standard_question_made_optional_and_service_validation(app: Flask, make_member, login,
                                                                          make_case) -> None:
    with db.session_scope(app) as session:
        channel = session.scalar(select(Channel).where(Channel.slug == "misstand"))
        assert channel is not None
        channel.questions, problems = channels.parse_questions("when | required\nwhat | optional")
        assert not problems
    make_member("anna")
    with pytest.raises(submission.SubmissionError) as refused:
        make_case(fields={"what": "alleen wat"})
    assert set(refused.value.errors) == {"when"}
    with pytest.raises(submission.SubmissionError) as unknown:
        make_case(fields={"when": "gisteren", "who": "niet gevraagd"})
    assert "" in unknown.value.errors
    assert make_case(fields={"when": "gisteren"}).reference
