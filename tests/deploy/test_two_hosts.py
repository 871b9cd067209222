"""Two app hosts: two gunicorn instances sharing PostgreSQL, Redis, the attachment store and the instance secret.

Every request of a reporter's and a handler's whole flow goes to the other instance than the one before:
forms made on one are accepted by the other, sessions opened on one are resumed on the other, a file
stored through one is read through the other; the submission budget and a mailbox's backoff count the
requests of both instances (and of both workers on each) together.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import db
from tests.deploy.live import Browser, Server, gunicorn, submit_fields
from tests.handler.conftest import Member
from tests.reporter.conftest import credentials

SUBMISSIONS_A_DAY = 2


class Alternating(Browser):
    """A browser whose every request goes to the next host in turn (as a round-robin balancer would)."""

    def __init__(self, ports: list[int]) -> None:
        super().__init__(ports[0])
        self.ports = ports
        self.turn = 0
        self.hosts_used: list[int] = []

    def connection(self, timeout: float = 30):  # type: ignore[no-untyped-def]
        self.port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        self.hosts_used.append(self.port)
        return super().connection(timeout)


@pytest.fixture
def two_hosts(app: Flask, tmp_path: Path, redis_url: str) -> Iterator[list[Server]]:
    """Two gunicorn instances (two workers each), each with its own instance folder holding a copy of the one
    secret key; one Redis (under a prefix of this test's own), a submission budget of two a day."""
    if db.engine_of(app).dialect.name != "postgresql":
        pytest.skip("two app hosts share one database server: set DATABASE_URL=postgresql://...")
    settings = app.config["MELDKLUIS"]
    shared_storage = tmp_path / "shared-storage"
    shared_storage.mkdir(mode=0o700)
    prefix = f"mk-two-hosts-{secrets.token_hex(4)}:"
    servers: list[Server] = []
    contexts = []
    try:
        for name in ("host-a", "host-b"):
            instance = tmp_path / name / "instance"
            instance.mkdir(parents=True, mode=0o700)
            shutil.copy2(settings.instance_path / "secret_key", instance / "secret_key")
            environment = {"DATABASE_URL": settings.database_url, "MELDKLUIS_INSTANCE": str(instance),
                           "MELDKLUIS_STORAGE": str(shared_storage), "MELDKLUIS_KDF": "test",
                           "MELDKLUIS_WORKERS": "2", "MELDKLUIS_THREADS": "2",
                           "MELDKLUIS_REDIS_URL": redis_url, "MELDKLUIS_REDIS_PREFIX": prefix,
                           "MELDKLUIS_SUBMIT_LIMIT": f"{SUBMISSIONS_A_DAY} per day"}
            context = gunicorn(tmp_path / name, environment, name=name)
            servers.append(context.__enter__())
            contexts.append(context)
        yield servers
    finally:
        for context in reversed(contexts):
            context.__exit__(None, None, None)


def test_reporter_and_handler_flows_alternate_between_two_hosts(
    two_hosts: list[Server], make_member: Callable[..., Member]
) -> None:
    member = make_member("hanna")
    ports = [server.port for server in two_hosts]
    reporter = Alternating(ports)

    # Reporter: the form from one host, the submission (with a file) to the other.
    sent = reporter.post_multipart("/nl/melden/misstand", submit_fields(reporter), file_name="bewijs.bin",
                                   file_size=300_000, pattern=b"ciphered?")
    assert sent.status == 200
    code, passphrase = credentials(sent.text)
    token = reporter.tokens("/nl/brievenbus/inloggen")["csrf_token"]
    assert reporter.post_form("/nl/brievenbus/inloggen", {"csrf_token": token, "receipt_code": code,
                                                          "passphrase": passphrase}).status == 303
    mailbox = reporter.get("/nl/brievenbus")
    assert mailbox.status == 200 and "bewijs.bin" in mailbox.text
    link = re.findall(r'href="(/nl/brievenbus/bijlage/[0-9a-f]+)"', mailbox.text)[0]
    assert reporter.get(link).body == (b"ciphered?" * 40_000)[:300_000]

    # Handler: log in on one host, read, acknowledge and reply across both.
    handler = Alternating(list(reversed(ports)))
    token = handler.tokens("/nl/handler/login")["csrf_token"]
    logged_in = handler.post_form("/nl/handler/login", {"csrf_token": token, "username": member.username,
                                                        "password": member.password, "code": member.code()})
    assert logged_in.status in (302, 303)
    inbox = handler.get("/nl/handler/")
    reference = re.findall(r"/nl/handler/case/([A-Z0-9-]+)\"", inbox.text)[0]
    page = f"/nl/handler/case/{reference}"
    case = handler.get(page)
    assert case.status == 200 and "Er wordt gefraudeerd met declaraties." in case.text
    attachment = case.text.split(f"{page}/attachment/")[1].split('"')[0]
    assert handler.get(f"{page}/attachment/{attachment}").body == (b"ciphered?" * 40_000)[:300_000]
    for action, text in (("acknowledge", "Ontvangen, dank u."), ("reply", "Sinds wanneer speelt dit?")):
        tokens = handler.tokens(page)
        token = tokens.get(f"{action}-csrf_token") or next(iter(tokens.values()))
        done = handler.post_form(f"{page}/{action}", {f"{action}-csrf_token": token, f"{action}-text": text})
        assert done.status in (302, 303), (action, done.status)

    # The reporter, still logged in, reads the reply on whichever host answers.
    for _ in range(2):
        assert "Sinds wanneer speelt dit?" in reporter.get("/nl/brievenbus").text
    assert set(reporter.hosts_used) == set(ports) and set(handler.hosts_used) == set(ports)


def test_budget_and_backoff_hold_across_both_hosts(two_hosts: list[Server], make_member: Callable[..., Member]) -> None:
    make_member("hanna")
    reporter = Alternating([server.port for server in two_hosts])
    receipts = []
    for _ in range(SUBMISSIONS_A_DAY):
        sent = reporter.post_multipart("/nl/melden/misstand", submit_fields(reporter))
        assert sent.status == 200
        receipts.append(credentials(sent.text))
    # The budget is spent, whichever host (and worker) the next reports reach.
    for _ in range(2):
        refused = reporter.post_multipart("/nl/melden/misstand", submit_fields(reporter))
        assert refused.status == 503 and "Er wordt gefraudeerd met declaraties." in refused.text  # text kept

    # Five wrong passphrases, alternating hosts, lock the mailbox on both: the right one is refused everywhere.
    code, passphrase = receipts[0]
    def log_in(words: str) -> int:
        token = reporter.tokens("/nl/brievenbus/inloggen")["csrf_token"]
        return reporter.post_form("/nl/brievenbus/inloggen", {"csrf_token": token, "receipt_code": code,
                                                              "passphrase": words}).status
    for attempt in range(5):
        assert log_in(f"wrong words {attempt}") == 401
    assert log_in(passphrase) == 401
    assert log_in(passphrase) == 401
    # Another mailbox is not affected.
    code, passphrase = receipts[1]
    assert log_in(passphrase) == 303
