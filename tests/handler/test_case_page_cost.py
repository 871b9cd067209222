"""What a case view costs the database, and its audit row: each table read once (the page is rendered after
every action, so its round trips are paid again and again), and the view recorded even if the page then fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

import app.web.handler as handler_views
from app import db
from app.models import AuditEvent

from .conftest import Member  # noqa: TID252

# The staff session with its user, the case with the handler's key, the staff accounts, the thread page, its
# files, the audit row, the milestones, the notes and the channels to move to; then one commit.
STATEMENTS_PER_VIEW = 9


def test_a_case_view_reads_each_table_once_and_commits_once(
    app: Flask, client: FlaskClient, make_member: Callable[..., Member], login: Callable[..., Any],
    make_case: Callable[..., Any],
) -> None:
    anna = make_member("anna")
    receipt = make_case(files=(("bewijs.pdf", b"%PDF-1.4 ..."),))
    login(client, anna)
    page = f"/nl/handler/case/{receipt.reference}"
    assert client.get(page).status_code == 200  # the first view also marks the thread as read
    statements: list[str] = []
    commits: list[object] = []
    engine = db.engine_of(app)

    def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split())[:80])

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "commit", committed)
    try:
        assert client.get(page).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "commit", committed)
    assert len(statements) <= STATEMENTS_PER_VIEW, statements
    assert sum(s.startswith("INSERT INTO audit_event") for s in statements) == 1
    assert len(commits) == 1


def test_a_case_view_is_audited_even_when_its_page_fails(
    app: Flask, client: FlaskClient, make_member: Callable[..., Member], login: Callable[..., Any],
    make_case: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    anna = make_member("anna")
    receipt = make_case()
    login(client, anna)

    def failing_render(template: str, **context: Any) -> str:
        raise RuntimeError(f"{template} could not be rendered")

    monkeypatch.setattr(handler_views, "render_template", failing_render)
    assert client.get(f"/nl/handler/case/{receipt.reference}").status_code == 500
    with db.session_scope(app) as session:
        viewed = session.scalars(select(AuditEvent).where(AuditEvent.action == "case_viewed")).all()
        assert [(e.user_id, e.case_id, e.detail) for e in viewed] == [(anna.id, receipt.case_id, "")]
