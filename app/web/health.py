"""`/health` for the orchestrator (Compose healthcheck, a load balancer): up or not, and nothing else.

No version, no counts, no timings: an anonymous visitor may call it too, and it must not help them
fingerprint the release or watch the number of cases grow.
"""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_session

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return Response("unavailable\n", status=503, mimetype="text/plain")
    return Response("ok\n", mimetype="text/plain")
