"""Error pages: what to do next, in the user's language, never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException, InternalServerError


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        return render_template("error.html", code=error.code), error.code or 500

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        # Log the type only: an exception's message may carry user input.
        app.logger.error("unhandled %s", type(error).__name__)
        return render_template("error.html", code=InternalServerError.code), 500
