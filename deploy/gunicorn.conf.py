"""gunicorn settings for Meldkluis (`make run` and production, behind nginx: deploy/nginx/).

No access log, and a logger that never writes a client address (app/gunicorn_log.py): gunicorn's own
lines for malformed requests would otherwise carry the address and what the client sent. The Server
header says only "Meldkluis" (no version banner); every other security header is set by the app itself.
"""

import multiprocessing
import os

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "Meldkluis"

wsgi_app = "app:create_app()"


def _workers() -> int:
    """MELDKLUIS_WORKERS, else one per CPU; SQLite gets one process (`meldkluis check` explains why)."""
    configured = os.environ.get("MELDKLUIS_WORKERS", "")
    if configured:
        return int(configured)
    if os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"):
        return 1
    return max(2, multiprocessing.cpu_count())


workers = _workers()
threads = int(os.environ.get("MELDKLUIS_THREADS", "4"))
worker_class = "gthread"
# Large uploads stream through nginx; the worker heartbeat must outlive a slow 500 MB upload.
timeout = 300
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "warning"
logger_class = "app.gunicorn_log.AnonymousLogger"
forwarded_allow_ips = "127.0.0.1"
# Request line and headers are small in every honest request; nginx enforces the same limits in front.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
