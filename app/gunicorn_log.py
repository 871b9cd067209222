"""gunicorn's logger without client addresses (deploy/gunicorn.conf.py sets it as `logger_class`).

gunicorn writes `Invalid request from ip=<address>: <detail>` for every malformed request, and the
detail may echo what the client sent (a header line, a User-Agent, the request line). A reporter's
address or browser must never reach a log, so such a line is replaced by a fixed one, any other
`ip=` field is blanked, and the access log is never written, whatever the configuration says.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_INVALID_REQUEST = "Invalid request from ip="
_IP_FIELD = re.compile(r"\bip=\S*")


def scrub(message: object, args: tuple[Any, ...] = ()) -> str:
    """The log line (formatted here, so arguments are scrubbed too) with nothing that could name a client."""
    text = str(message) % args if args else str(message)
    if text.startswith(_INVALID_REQUEST):
        return "Invalid request refused (client address and request detail not logged)"
    return _IP_FIELD.sub("ip=-", text)


class AnonymousLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's error log, scrubbed of client addresses; no access log at all."""

    def critical(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().critical(scrub(msg, args), **kwargs)

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().error(scrub(msg, args), **kwargs)

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().warning(scrub(msg, args), **kwargs)

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().info(scrub(msg, args), **kwargs)

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().debug(scrub(msg, args), **kwargs)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().exception(scrub(msg, args), **kwargs)

    def log(self, lvl: int | str, msg: object, *args: Any, **kwargs: Any) -> None:
        super().log(lvl, scrub(msg, args), **kwargs)

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Never: an access line carries the client's address, agent and the exact time of a visit."""
