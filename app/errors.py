"""Error pages: what to do next, in the user's language, never a stack trace."""

from __future__ import annotations

import traceback

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException, InternalServerError


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        return render_template("error.html", code=error.code), error.code or 500

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        # Log the type and where it happened, never the message or locals: they may carry report text.
        app.logger.error("unhandled %s at %s", type(error).__name__, _where(error))
        return render_template("error.html", code=InternalServerError.code), 500


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)[-6:]
    return " <- ".join(f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} {frame.name}" for frame in reversed(frames))
