"""Reporter pages: start, route map, submission, receipt, mailbox. No cookie before the mailbox login."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.db import get_session
from app.models import Organisation

bp = Blueprint("reporter", __name__)


@bp.get("/")
def start() -> str:
    organisation = get_session().get(Organisation, 1)
    return render_template("reporter/start.html", organisation=organisation)
