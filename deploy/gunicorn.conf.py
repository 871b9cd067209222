"""gunicorn settings for Meldkluis (`make run` and production, behind nginx: deploy/nginx/).

No access log, and a logger that never writes a client address (app/gunicorn_log.py): gunicorn's own
lines for malformed requests would otherwise carry the address and what the client sent. The Server
header says only "Meldkluis" (no version banner); every other security header is set by the app itself.
"""

import os

import gunicorn.http.wsgi

from app.config import default_workers

gunicorn.http.wsgi.SERVER = "Meldkluis"

wsgi_app = "app:create_app()"


# One per CPU, one for SQLite, or MELDKLUIS_WORKERS (app/config.py; `meldkluis check` uses the same rule).
workers = default_workers()
threads = int(os.environ.get("MELDKLUIS_THREADS", "4"))
worker_class = "gthread"
# Large uploads stream through nginx; the worker heartbeat must outlive a slow 500 MB upload.
timeout = 300
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "warning"
logger_class = "app.gunicorn_log.AnonymousLogger"
# Who may say the scheme (X-Forwarded-Proto): nginx. Compose sets nginx's network (deploy/compose.yaml).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Request line and headers are small in every honest request; nginx enforces the same limits in front.
limit_request_line = 4094
limit_request_fields = 50
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


def post_worker_init(worker: object) -> None:
    # The app, its catalogues and the ORM's metadata are loaded now and live as long as the worker: moved out of
    # the collector's view, a full collection no longer walks them in the middle of a request.
    import gc

    gc.freeze()
