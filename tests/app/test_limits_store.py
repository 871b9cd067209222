"""The limits store (app/services/limits.py): the same behaviour in worker memory and in Redis, shared between
app instances through Redis, and nothing in it that names a mailbox, a receipt code or a user, or lives forever."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import redis
from flask import Flask

from app import create_app, db
from app.config import Settings
from app.services import limits as limits_module
from app.services import mailbox
from app.services.limits import Limits, MemoryStore, RedisStore, Schedule
from app.services.submission import ReportInput, submit_report


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> limits_module.LimitStore:
    if request.param == "memory":
        return MemoryStore()
    return RedisStore(request.getfixturevalue("redis_url"))


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def test_counters_windows_and_locks(store: limits_module.LimitStore) -> None:
    window, refreshed, lock = unique(), unique(), unique()
    assert [store.count(window, 60) for _ in range(3)] == [1, 2, 3]
    assert 0 < store.remaining(window) <= 60
    assert store.count(refreshed, 30, refresh=True) == 1
    assert store.count(refreshed, 90, refresh=True) == 2
    assert 60 < store.remaining(refreshed) <= 90  # a refreshed counter lives from its latest hit
    assert store.remaining(lock) == 0
    store.lock(lock, 5)
    assert 0 < store.remaining(lock) <= 5
    store.forget(window, lock)
    assert store.remaining(window) == 0 and store.remaining(lock) == 0
    assert store.count(window, 60) == 1


def test_memory_entries_expire(fake_clock: Any) -> None:
    store = MemoryStore(fake_clock)
    store.count("a", 10)
    store.lock("b", 10)
    fake_clock.advance(timedelta(seconds=11))
    assert store.remaining("a") == 0 and store.remaining("b") == 0
    assert store.count("a", 10) == 1


def test_budget_is_a_fixed_window(fake_clock: Any) -> None:
    limits = Limits.in_memory(fake_clock)
    assert [limits.budget("x", "3 per minute") for _ in range(4)] == [True, True, True, False]
    fake_clock.advance(timedelta(minutes=1))
    assert limits.budget("x", "3 per minute")


def test_a_backoff_counts_only_its_own_name(fake_clock: Any) -> None:
    limits = Limits.in_memory(fake_clock)
    schedule = Schedule(free=2, first=timedelta(minutes=1), longest=timedelta(minutes=10))
    for _ in range(2):
        limits.failed("login", "mailbox-a", schedule)
    assert limits.locked("login", "mailbox-a") and not limits.locked("login", "mailbox-b")
    limits.succeeded("login", "mailbox-a")
    assert not limits.locked("login", "mailbox-a")


def test_the_process_gate_bounds_concurrency() -> None:
    inside, most = [0], [0]
    lock, release = threading.Lock(), threading.Event()

    def run() -> None:
        with limits_module.process_gate("test-gate", 2, 10):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            release.wait(5)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=run) for _ in range(5)]
    for thread in threads:
        thread.start()
    with pytest.raises(limits_module.Busy), limits_module.process_gate("test-gate", 2, 0.2):
        pass  # two run, three wait: a sixth gives up after its wait
    release.set()
    for thread in threads:
        thread.join(10)
    assert most[0] == 2


# --- Redis: what it holds, and that it is shared ------------------------------------------------------


@pytest.fixture
def two_apps(app: Flask, settings: Settings, redis_url: str) -> Iterator[tuple[Flask, Flask]]:
    """Two app instances (as two gunicorn hosts would be) on one database and one Redis.

    Built beside the `app` fixture, which empties the database afterwards.
    """
    shared = replace(settings, redis_url=redis_url, redis_prefix=f"{unique('mk')}:")
    first, second = create_app(shared), create_app(shared)
    yield first, second
    for app in (first, second):
        db.engine_of(app).dispose()


def _receipt(app: Flask, add_recipient: Any) -> Any:
    add_recipient("hanna")
    with app.test_request_context(), db.session_scope(app) as session:
        return submit_report(session, app.config["MELDKLUIS"], ReportInput(
            channel_slug="misstand", category="fraude", fields={"what": "Er verdwijnt geld uit de kas."}))


@pytest.fixture
def add_recipient(two_apps: tuple[Flask, Flask]) -> Any:
    from sqlalchemy import select

    from app.models import Channel, ChannelRecipient
    from app.services import accounts

    app = two_apps[0]

    def make(username: str) -> None:
        with db.session_scope(app) as session:
            user = accounts.create_user(session, username, ["handler"], display_name=username.title())
            accounts.activate_user(session, user, "a long enough password 123", app.config["MELDKLUIS"].handler_kdf)
            channel = session.scalar(select(Channel).where(Channel.slug == "misstand"))
            assert channel is not None
            session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))

    return make


def test_backoff_and_budgets_hold_across_app_instances(two_apps: tuple[Flask, Flask], add_recipient: Any) -> None:
    first, second = two_apps
    receipt = _receipt(first, add_recipient)
    settings = first.config["MELDKLUIS"]
    for app in (first, second) * 3:  # failures alternate between the instances and add up
        if limits_module.limits_of(app).locked(mailbox.MAILBOX_LIMIT, receipt.case_id):
            break
        with db.session_scope(app) as session, pytest.raises(mailbox.LoginFailed):
            mailbox.login(session, settings, receipt.receipt_code, "wrong words", limits=limits_module.limits_of(app))
    assert limits_module.limits_of(first).locked(mailbox.MAILBOX_LIMIT, receipt.case_id)
    assert limits_module.limits_of(second).locked(mailbox.MAILBOX_LIMIT, receipt.case_id)
    with db.session_scope(second) as session, pytest.raises(mailbox.LoginFailed):  # locked on both
        mailbox.login(session, settings, receipt.receipt_code, receipt.passphrase,
                      limits=limits_module.limits_of(second))
    budget = [limits_module.limits_of(app).budget("shared-test", "3 per minute") for app in (first, second) * 2]
    assert budget == [True, True, True, False]


def test_redis_holds_only_keyed_hashes_that_expire(two_apps: tuple[Flask, Flask], add_recipient: Any,
                                                   redis_url: str) -> None:
    first, _ = two_apps
    receipt = _receipt(first, add_recipient)
    settings = first.config["MELDKLUIS"]
    limits = limits_module.limits_of(first)
    for code in (receipt.receipt_code, "AAAA-BBBB-CCCC-DDDD"):
        for _ in range(mailbox.BACKOFF.free + 1):
            with db.session_scope(first) as session, pytest.raises(mailbox.LoginFailed):
                mailbox.login(session, settings, code, "wrong words", limits=limits)
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{settings.redis_prefix}*"))
    assert len(keys) >= 3  # failures and lock of the mailbox, the budget for unknown codes
    values = b"".join(keys) + b"".join(bytes(client.dump(key) or b"") for key in keys)
    for secret in (receipt.case_id, receipt.receipt_code, receipt.receipt_code.replace("-", ""), receipt.reference):
        assert secret.encode() not in values
    assert all(client.pttl(key) > 0 for key in keys)  # everything expires


def test_an_unreachable_redis_fails_open_and_logs_only_the_error_type(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limits = Limits(RedisStore(f"redis://127.0.0.1:{port}/0"), b"k" * 32, "t:")
    schedule = Schedule(free=1, first=timedelta(minutes=1), longest=timedelta(minutes=10))
    limits.failed("login", "mailbox-a", schedule)
    assert not limits.locked("login", "mailbox-a")
    assert all(limits.budget("submissions", "1 per minute") for _ in range(3))
    assert "ConnectionError" in caplog.text and "mailbox-a" not in caplog.text
