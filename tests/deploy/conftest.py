"""Helpers for the deployment tests: the shipped nginx config rendered for a test, free ports, tools.

The nginx files in deploy/nginx/ are used as they are, with four substitutions only: the include
folder, the pid file, the upstream (gunicorn on a free port) and the listening port; the temp folders
are put in the test's own folder so a test can look into them.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from app.config import ROOT

DEPLOY = ROOT / "deploy"
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def tool(name: str) -> str:
    """The path of a Debian tool the deploy tests need (`make test` installs nginx, tor, docker-compose)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if path is None:
        pytest.skip(f"{name} is not installed; `make test` installs it from Debian's packages")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def render_nginx(folder: Path, upstream_port: int, listen_port: int) -> Path:
    """deploy/nginx/ copied into `folder` and pointed at loopback ports; returns the main config file."""
    conf_dir = folder / "nginx"
    conf_dir.mkdir(parents=True)
    for source in (DEPLOY / "nginx").iterdir():
        text = source.read_text()
        text = text.replace("/etc/nginx/meldkluis/", f"{conf_dir}/")
        text = text.replace("server app:8000;", f"server 127.0.0.1:{upstream_port};")
        text = text.replace("listen 8080 default_server;", f"listen 127.0.0.1:{listen_port} default_server;")
        text = text.replace("pid /run/nginx.pid;", f"pid {folder}/nginx.pid;")
        temp_paths = "".join(f"    {kind}_temp_path {folder}/temp/{kind};\n" for kind in TEMP_KINDS)
        text = text.replace("http {\n", "http {\n" + temp_paths, 1)
        (conf_dir / source.name).write_text(text)
    for kind in TEMP_KINDS:
        (folder / "temp" / kind).mkdir(parents=True)
    return conf_dir / "nginx.conf"


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


# The handler side's fixtures (activated staff with TOTP, cases made by the reporter's service).
from tests.handler.conftest import make_case, make_member  # noqa: E402, F401
from tests.reporter.conftest import add_recipient  # noqa: E402, F401
