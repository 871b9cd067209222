"""Blueprints, one per audience: reporter, handler, compliance, admin. Views stay thin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from flask import Response, stream_with_context

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


class IncompleteFile(Exception):
    """A stored file gave fewer or more bytes than its row says: the download must not look complete."""


def file_response(chunks: Iterator[bytes], size: int, content_disposition: str) -> Response:
    """A download that a browser can only see as complete when every byte was verified.

    The first chunk is decrypted before any header goes out (a damaged file start becomes an error page).
    `Content-Length` is the size recorded when the file was stored, so a stream that fails later (a cut or
    altered file) leaves the response short and the server drops the connection: the browser marks the
    download failed, also behind a proxy that reads the upstream response as HTTP/1.0.
    """
    first = next(chunks, b"")

    def verified() -> Iterator[bytes]:
        sent = len(first)
        yield first
        for chunk in chunks:
            sent += len(chunk)
            if sent > size:
                raise IncompleteFile()
            yield chunk
        if sent != size:
            raise IncompleteFile()

    response = Response(stream_with_context(verified()), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = content_disposition
    response.headers["Content-Length"] = str(size)
    return response
