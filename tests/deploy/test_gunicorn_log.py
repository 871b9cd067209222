"""gunicorn as configured (deploy/gunicorn.conf.py) never logs a client address or what a client sent,
for malformed requests either (gunicorn's own `Invalid request from ip=...` line); on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.deploy.live import CLIENT_ADDRESS, MALFORMED, USER_AGENT, Browser, gunicorn, raw_request


def test_malformed_requests_leave_no_client_detail_in_gunicorns_log(app: Flask, tmp_path: Path) -> None:
    settings = app.config["MELDKLUIS"]
    environment = {"DATABASE_URL": settings.database_url, "MELDKLUIS_INSTANCE": str(settings.instance_path),
                   "MELDKLUIS_STORAGE": str(settings.storage_path), "MELDKLUIS_KDF": "test", "MELDKLUIS_WORKERS": "1"}
    with gunicorn(tmp_path, environment) as server:
        answers = [raw_request(server.port, request) for request in MALFORMED]
        assert Browser(server.port).get("/nl/").status == 200
        assert Browser(server.port).get("/health").body == b"ok\n"
    statuses = [answer.split(b"\r\n", 1)[0] for answer in answers]
    assert all(status.startswith(b"HTTP/1.1 4") for status in statuses), statuses
    log = server.log_text()
    assert "Invalid request refused" in log  # the malformed requests were seen and logged, without detail
    for detail in (CLIENT_ADDRESS, USER_AGENT, "DistinctiveAgent", "ip=1"):
        assert detail not in log, detail
