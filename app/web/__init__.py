"""Blueprints, one per audience: reporter, handler, compliance, admin. Views stay thin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from app.db import get_session
from app.services.accounts import AccountError

T = TypeVar("T")


def commit_or_error(action: Callable[[], T]) -> tuple[T | None, str | None]:
    """Run a service call in the request's transaction: commit when it succeeds, or roll back and return
    its user-facing message when it refuses (AccountError), for the view to show next to the form."""
    session = get_session()
    try:
        result = action()
    except AccountError as problem:
        session.rollback()
        return None, str(problem)
    session.commit()
    return result, None
