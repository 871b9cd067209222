"""Real servers for the deployment tests: gunicorn with deploy/gunicorn.conf.py, nginx with deploy/nginx/,
and an HTTP client that speaks from a distinctive loopback address (so a test can look for it in every log).

Every server binds 127.0.0.1 on a free port; every wait is bounded.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy.conftest import DEPLOY, ROOT, free_port, render_nginx, tool

# Linux answers on all of 127.0.0.0/8: the client's address is one that no server line can contain by chance.
CLIENT_ADDRESS = "127.61.83.97"
USER_AGENT = "DistinctiveAgent/7.3 (fingerprint-me-not)"
TOKEN = re.compile(r'name="([\w-]*csrf_token)" type="hidden" value="([^"]+)"')


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class Server:
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def gunicorn(folder: Path, environment: dict[str, str], name: str = "gunicorn") -> Iterator[Server]:
    """gunicorn as production runs it (deploy/gunicorn.conf.py), its whole output in `folder/<name>.log`."""
    port = free_port()
    log = folder / f"{name}.log"
    env = {**os.environ, **environment}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", str(DEPLOY / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process)
        yield Server(port, log, process)
    finally:
        stop(process)


@contextmanager
def nginx(folder: Path, upstream_port: int) -> Iterator[Server]:
    """nginx with the shipped config in front of `upstream_port`; temp folders in `folder/temp/`."""
    port = free_port()
    main = render_nginx(folder, upstream_port, port)
    log = folder / "nginx.log"
    # As root, nginx's workers would run as `nobody`, who cannot enter pytest's private temp folder.
    globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [tool("nginx"), "-e", "stderr", "-p", str(folder), "-c", str(main), "-g", globals_],
            stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process)
        yield Server(port, log, process)
    finally:
        stop(process)


def raw_request(port: int, data: bytes, timeout: float = 5) -> bytes:
    """Send bytes as they are (malformed requests) from the client address; return what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(CLIENT_ADDRESS, 0)) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


MALFORMED = [
    # An invalid HTTP version, an oversized header, a bad header name, a bad method: each once with the agent.
    f"GET /nl/ HTTP/9.7\r\nHost: x\r\nUser-Agent: {USER_AGENT}\r\n\r\n".encode(),
    f"GET /nl/ HTTP/1.1\r\nHost: x\r\nUser-Agent: {USER_AGENT}\r\nX-Big: {'a' * 20000}\r\n\r\n".encode(),
    f"GET /nl/ HTTP/1.1\r\nHost: x\r\nUser-Agent\x01: {USER_AGENT}\r\n\r\n".encode(),
    f"G(T /nl/ HTTP/1.1\r\nHost: x\r\nUser-Agent: {USER_AGENT}\r\n\r\n".encode(),
    f"GET /{'a' * 9000} HTTP/1.1\r\nHost: x\r\nUser-Agent: {USER_AGENT}\r\n\r\n".encode(),
]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class Browser:
    """A minimal cookie-keeping client that always speaks from CLIENT_ADDRESS with a distinctive agent."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, source_address=(CLIENT_ADDRESS, 0))

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Sec-Fetch-Site": "same-origin", "Accept-Language": "xx-DISTINCT"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**headers, **(extra or {})}

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in header and "expires=Thu, 01 Jan 1970" not in header:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)

    def request(self, method: str, path: str, body: bytes | Iterable[bytes] | None = None,
                headers: dict[str, str] | None = None, timeout: float = 60) -> Response:
        connection = self.connection(timeout)
        try:
            connection.request(method, path, body=body, headers=self.headers(headers))  # type: ignore[arg-type]
            response = connection.getresponse()
            data = response.read()
            self._keep_cookies(response)
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            connection.close()

    def get(self, path: str, timeout: float = 60) -> Response:
        return self.request("GET", path, timeout=timeout)

    def tokens(self, path: str) -> dict[str, str]:
        page = self.get(path)
        assert page.status == 200, (path, page.status)
        return dict(TOKEN.findall(page.text))

    def post_form(self, path: str, fields: dict[str, str]) -> Response:
        return self.request("POST", path, urllib.parse.urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path: str, fields: dict[str, str], file_name: str = "", file_size: int = 0,
                       pattern: bytes = b"evidence ") -> Response:
        """A multipart post streamed in 1 MiB pieces (a file of `file_size` bytes repeating `pattern`)."""
        boundary = "mk-live-boundary-5c1e"
        head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                        for k, v in fields.items())
        if file_name:
            head += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{file_name}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n").encode()
        tail = (b"\r\n" if file_name else b"") + f"--{boundary}--\r\n".encode()
        piece = pattern * (1024 * 1024 // len(pattern))  # whole patterns: the pieces join up seamlessly

        def parts() -> Iterator[bytes]:
            yield head
            left = file_size
            while left > 0:
                yield piece[:left]
                left -= len(piece)
            yield tail

        return self.request("POST", path, parts(), {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + file_size + len(tail)),
        }, timeout=300)


def expected_file(size: int, pattern: bytes = b"evidence ") -> bytes:
    return (pattern * (size // len(pattern) + 1))[:size]


def submit_fields(browser: Browser, slug: str = "misstand") -> dict[str, str]:
    """A filled-in report form (its CSRF token, the first recipient ticked) as the reporter would send it."""
    from tests.reporter.conftest import report_fields

    page = browser.get(f"/nl/melden/{slug}")
    token = dict(TOKEN.findall(page.text))["csrf_token"]
    recipient = re.search(r'name="recipients"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="recipients"', page.text)
    fields = {"csrf_token": token, "category": "fraude", **report_fields()}
    if recipient:
        fields["recipients"] = recipient.group(1) or recipient.group(2)
    return fields
