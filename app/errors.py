"""Error pages: what to do next, in the user's language, never a stack trace.

Logs keep one rule everywhere (Flask's own exception log, gunicorn's error log, the WSGI last resort in
app/security.py): an exception is logged as its type and frames, never its message, because a message
may quote a query parameter, a path an attacker chose or report text.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


def init_app(app: Flask) -> None:
    keep_messages_out_of_logs(app)

    def log_exception(exc_info: ExcInfo) -> None:
        # Flask's default writes the request path and the full traceback with the message.
        error = exc_info[1]
        if error is not None:
            app.logger.error("unhandled %s at %s", type(error).__name__, where(error))

    app.log_exception = log_exception  # type: ignore[method-assign]

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        return render_template("error.html", code=error.code), error.code or 500

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        # Log the type and where it happened, never the message or locals: they may carry report text.
        app.logger.error("unhandled %s at %s", type(error).__name__, where(error))
        return render_template("error.html", code=InternalServerError.code), 500


def keep_messages_out_of_logs(app: Flask) -> None:
    """Every log record with an exception loses its message and arguments, whoever logs it.

    Besides the app's own logger this covers records that propagate to the root logger, such as SQLAlchemy's
    pool logging a failed rollback on a terminated connection with its full traceback. Without a root
    handler Python would print those through its last-resort handler, unfiltered; so one is installed.
    """
    app.logger.addFilter(TracebackWithoutMessage())
    root = logging.getLogger()
    if not root.handlers:
        fallback = logging.StreamHandler()  # stderr, where the last-resort handler and gunicorn's log write
        fallback.setLevel(logging.WARNING)
        root.addHandler(fallback)
    for handler in root.handlers:
        if not any(isinstance(existing, TracebackWithoutMessage) for existing in handler.filters):
            handler.addFilter(TracebackWithoutMessage())


def where(error: BaseException) -> str:
    """The last frames of an exception's traceback as one line (file:line function), without its message."""
    frames = traceback.extract_tb(error.__traceback__)[-6:]
    return " <- ".join(f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} {frame.name}" for frame in reversed(frames))


class TracebackWithoutMessage(logging.Filter):
    """Rewrites a log record that carries an exception: its fixed text, the exception type and frames.

    The record's arguments (gunicorn passes the request URI) and the exception's message are dropped, so
    neither a path an attacker chose nor a database error quoting a value reaches the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None:
            return True
        text = str(record.msg).split("%", 1)[0].strip() or "error"
        record.msg = "%s: %s at %s"
        record.args = (text, type(error).__name__, where(error))
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
