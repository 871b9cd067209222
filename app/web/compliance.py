"""Compliance pages: statistics, the list of due milestones, the register and the yearly report.

Role compliance only. Nothing here opens a case or reads content: the services read dates, statuses,
channels and categories.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from app.db import get_session
from app.i18n import current_language as _lang
from app.services import clock, compliance
from app.services.staff_auth import current_staff, require_role

bp = Blueprint("compliance", __name__)

REGISTER_PAGE_SIZE = 200


def _year_arg(default: int | None) -> int | None:
    value = request.args.get("year", "")
    if value == "":
        return default
    if value == "all":
        return None
    if not value.isdigit() or not 1900 <= int(value) <= 9999:
        abort(404)
    return int(value)


def _page_arg(name: str) -> int:
    value = request.args.get(name, "1")
    return int(value) if value.isdigit() and 0 < int(value) < 1_000_000 else 1


def _render(template: str, **context: Any) -> str:
    return render_template(template, staff=current_staff(), percentage=compliance.percentage, **context)


@bp.get("/")
@require_role("compliance")
def overview() -> str:
    today = clock.today()
    granularity = request.args.get("period", "month")
    if granularity not in compliance.GRANULARITIES:
        granularity = "month"
    year = _year_arg(None if granularity == "year" else today.year)
    session = get_session()
    return _render(
        "compliance/overview.html", today=today,
        data=compliance.overview(session, granularity, year, today, _lang()),
        attention=compliance.attention(session, today, _lang(), page=_page_arg("due_page")),
        soon_days=compliance.SOON_DAYS,
        filters={"period": granularity, "year": year if year is not None else "all"},
    )


@bp.get("/register")
@require_role("compliance")
def register() -> str:
    today = clock.today()
    year = _year_arg(today.year)
    number = _page_arg("page")
    data = compliance.register(get_session(), year, today, _lang(), offset=(number - 1) * REGISTER_PAGE_SIZE,
                               limit=REGISTER_PAGE_SIZE)
    pages = max(1, -(-data.total // REGISTER_PAGE_SIZE))
    return _render("compliance/register.html", data=data, year=year, page=number, pages=pages,
                   years=compliance.years_with_cases(get_session()), today=today)


@bp.get("/register.csv")
@require_role("compliance")
def register_csv() -> Response:
    today = clock.today()
    year = _year_arg(None)
    data = compliance.register(get_session(), year, today, _lang())
    name = f"meldkluis-register-{year or 'all'}.csv"
    return Response(
        stream_with_context(compliance.register_csv(data, compliance.csv_delimiter(_lang()))), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/report/<int:year>")
@require_role("compliance")
def report(year: int) -> str:
    if not 1900 <= year <= 9999:
        abort(404)
    today = clock.today()
    return _render("compliance/report.html", report=compliance.yearly_report(get_session(), year, today, _lang()),
                   today=today)

