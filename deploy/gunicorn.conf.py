"""gunicorn settings for Meldkluis (`make run` and production).

No access log: its lines carry client addresses and exact times. The Server header says only
"Meldkluis" (no version banner); every other security header is set by the app itself.
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "Meldkluis"

wsgi_app = "app:create_app()"
workers = 2
threads = 4
worker_class = "gthread"
timeout = 300
accesslog = None
errorlog = "-"
loglevel = "warning"
forwarded_allow_ips = "127.0.0.1"
# Large uploads are streamed; the request body never sits in memory or in /tmp in plaintext.
limit_request_field_size = 8190


def _log_exceptions_without_messages() -> None:
    # gunicorn logs a failed request as "Error handling request <uri>" with the full traceback: keep the
    # exception type and frames, drop the URI and the message (app/errors.py).
    import logging

    from app.errors import TracebackWithoutMessage

    error_log = logging.getLogger("gunicorn.error")
    if not any(isinstance(existing, TracebackWithoutMessage) for existing in error_log.filters):
        error_log.addFilter(TracebackWithoutMessage())


_log_exceptions_without_messages()
