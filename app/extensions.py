"""Flask extensions, bound to an app in create_app()."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter


def _one_bucket_for_everyone() -> str:
    # Over Tor every reporter shares an address: limits are global (and per mailbox in the
    # services), never per IP, and no address is ever read.
    return "global"


babel = Babel()
limiter = Limiter(key_func=_one_bucket_for_everyone, default_limits=[], headers_enabled=False)
