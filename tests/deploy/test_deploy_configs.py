"""The shipped deployment files, checked by the real tools (Debian's docker-compose, tor and nginx)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.deploy.conftest import DEPLOY, ROOT, free_port, render_nginx, tool


def _compose_config(tmp_path: Path, *files: str) -> dict[str, Any]:
    """`docker-compose config` of a copy of deploy/ (with a password file), as data."""
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    (copy / "db_password.txt").write_text("not-a-real-password")
    args = [tool("docker-compose")]
    for name in files:
        args += ["-f", str(copy / name)]
    result = subprocess.run([*args, "config"], capture_output=True, text=True, timeout=60, cwd=copy, check=False)
    assert result.returncode == 0, result.stderr
    # docker-compose is Python and brings PyYAML along; the suite's venv does not have it.
    converted = subprocess.run(["/usr/bin/python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
                               input=result.stdout, capture_output=True, text=True, timeout=30, check=True)
    data: dict[str, Any] = json.loads(converted.stdout)
    return data


def test_compose_file_is_accepted_and_keeps_its_promises(tmp_path: Path) -> None:
    config = _compose_config(tmp_path, "compose.yaml")
    services, networks = config["services"], config["networks"]
    assert set(services) == {"db", "redis", "app", "jobs", "nginx", "tor"}
    # Nothing is published: Tor and (with the HTTPS override) nginx are the only ways in.
    assert all("ports" not in service for service in services.values())
    app = services["app"]
    assert app["read_only"] is True and list(app["networks"]) == ["backend"]
    assert networks["backend"]["internal"] is True and networks["onion"]["internal"] is True
    assert set(services["nginx"]["networks"]) == {"backend", "onion"}
    assert set(services["tor"]["networks"]) == {"onion", "egress"}
    # The app gets the database password through a secret file, the database the same file.
    assert app["environment"]["MELDKLUIS_DATABASE_PASSWORD_FILE"] == "/run/secrets/db_password"
    assert services["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
    # Redis never writes backoff or limits to a disk.
    command = services["redis"]["command"]
    assert command[command.index("--save") + 1] == "" and command[command.index("--appendonly") + 1] == "no"
    # The nightly order: purge, gc, maintenance, backup.
    script = services["jobs"]["command"][0]
    steps = [script.index(f"meldkluis {name}") for name in ("purge", "gc", "maintenance", "backup")]
    assert steps == sorted(steps)
    # Tor reaches nginx at the fixed address the torrc names.
    torrc = (DEPLOY / "tor" / "torrc").read_text()
    address = services["nginx"]["networks"]["onion"]["ipv4_address"]
    assert f"HiddenServicePort 80 {address}:8080" in torrc


def test_https_override_is_accepted_and_publishes_only_nginx(tmp_path: Path) -> None:
    config = _compose_config(tmp_path, "compose.yaml", "compose.https.yaml")
    published = {name for name, service in config["services"].items() if "ports" in service}
    assert published == {"nginx"}


def test_app_image_runs_as_a_user_and_the_build_context_leaves_secrets_out() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "**"  # everything out, then only what the image needs back in
    allowed = [rule[1:] for rule in rules if rule.startswith("!")]
    assert not any(rule.startswith(("instance", ".venv", "tests", ".git", "deploy/db_password")) for rule in allowed)
    # ... and everything the Dockerfile copies is let back in.
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists(), source
            assert any(source.rstrip("/") == rule.rstrip("/") or source.startswith(rule) for rule in allowed), source


def test_torrc_is_accepted_by_tor_with_pow_and_safe_logging(tmp_path: Path) -> None:
    torrc = DEPLOY / "tor" / "torrc"
    result = subprocess.run([tool("tor"), "--verify-config", "-f", str(torrc), "--DataDirectory", str(tmp_path / "tor")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration was valid" in result.stdout
    settings = dict(line.split(None, 1) for line in torrc.read_text().splitlines() if line and not line.startswith("#"))
    assert settings["HiddenServicePoWDefensesEnabled"] == "1"
    assert settings["SafeLogging"] == "1"
    assert settings["HiddenServiceVersion"] == "3"


def test_tor_image_installs_tor_at_build_time_not_at_start() -> None:
    dockerfile = (DEPLOY / "tor" / "Dockerfile").read_text()
    assert re.search(r"^RUN apt-get update .*install .*\btor\b", dockerfile, re.MULTILINE | re.DOTALL)
    command = re.search(r"^CMD (.*)$", dockerfile, re.MULTILINE)
    assert command and "apt-get" not in command.group(1)


def test_nginx_config_is_accepted_by_nginx(tmp_path: Path) -> None:
    main = render_nginx(tmp_path, free_port(), free_port())
    result = subprocess.run([tool("nginx"), "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(main)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_https_example_is_accepted_by_nginx(tmp_path: Path) -> None:
    main = render_nginx(tmp_path, free_port(), free_port())
    certificate = tmp_path / "tls"
    certificate.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(certificate / "privkey.pem"), "-out", str(certificate / "fullchain.pem")],
                   capture_output=True, timeout=60, check=True)
    example = (main.parent / "https.conf.example").read_text()
    example = example.replace("/etc/ssl/meldpunt/", f"{certificate}/")
    example = example.replace("listen 443 ssl", f"listen 127.0.0.1:{free_port()} ssl")
    example = example.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    (main.parent / "https.conf").write_text(example)
    main.write_text(main.read_text().replace("# include ", "include "))
    result = subprocess.run([tool("nginx"), "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(main)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


NIGHTLY = ["purge", "gc", "maintenance", "backup"]


def test_systemd_nightly_order_matches_compose_and_every_timer_has_its_service() -> None:
    units = DEPLOY / "systemd"
    steps = re.findall(r"^ExecStart=.*?meldkluis (\w+)", (units / "meldkluis-nightly.service").read_text(), re.MULTILINE)
    assert steps == NIGHTLY
    for timer in units.glob("*.timer"):
        assert (units / f"{timer.stem}.service").exists(), timer.name
    service = (units / "meldkluis.service").read_text()
    assert "ExecStartPre=/srv/meldkluis/.venv/bin/meldkluis db upgrade" in service
    assert "--bind 127.0.0.1:8000" in service


def test_nginx_own_error_pages_carry_the_security_headers(tmp_path: Path) -> None:
    """The app down (502): nginx answers itself, with the app's headers, and its internal page is not reachable."""
    from tests.deploy.live import Browser, nginx

    with nginx(tmp_path, upstream_port=free_port()) as front:
        down = Browser(front.port).get("/nl/")
        hidden = Browser(front.port).get("/.meldkluis-error/503")
    assert down.status == 502 and "probeer het over een minuut opnieuw" in down.text
    assert down.headers["content-security-policy"].startswith("default-src 'none'")
    assert down.headers["x-frame-options"] == "DENY" and down.headers["cache-control"] == "no-store"
    assert down.headers["x-content-type-options"] == "nosniff"
    assert hidden.status == 404 and "probeer" not in hidden.text
