"""Abuse limits: budgets, backoff and derivation gates, with their state in Redis or in worker memory.

Shared state (counters and locks) lives in a `LimitStore`: Redis when `MELDKLUIS_REDIS_URL` is set (every
worker and every app host then sees the same counts), else this worker's memory. Both keep entries only
for their time to live, and every key is a keyed hash (BLAKE2b under a subkey of the instance secret): the
store never holds a case id, a receipt code or a user name, only "some key was hit n times, for m more
seconds". Redis must run without persistence (no RDB snapshots, no AOF), so that nothing here reaches a
disk where it could date a reporter's visit.

The services use one `Limits` object per app (`limits_of(app)`):

- `limits.budget(name, rate)` takes one unit of a global budget such as "60 per 10 minutes" (fixed window)
  and says whether there was one left;
- `limits.locked(name, who)`, `limits.failed(name, who, schedule)`, `limits.succeeded(name, who)`: backoff
  after consecutive failures, per mailbox or per staff user name;
- `process_gate(name, size)`: at most `size` expensive runs (key derivations, file cleaning) at once in this process (CPU and
  memory are per host, so this gate is deliberately not shared).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, render_template
from limits import parse as parse_rate

EXTENSION = "meldkluis.limits"
logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 300


class Busy(RuntimeError):
    """A limit says "not now": the caller answers "busy, try again in a few minutes" and keeps the user's input."""


# --- stores ------------------------------------------------------------------------------------------


class LimitStore(ABC):
    """Counters and locks that expire. Keys are opaque strings (already keyed hashes)."""

    @abstractmethod
    def count(self, key: str, ttl_seconds: int, *, refresh: bool = False) -> int:
        """Add one to a counter and return its new value.

        The counter lives `ttl_seconds` from its first hit (a fixed window), or from its latest hit with
        `refresh` (a count of consecutive failures that is forgotten once they stop).
        """

    @abstractmethod
    def lock(self, key: str, seconds: float) -> None:
        """Set a flag that disappears after `seconds`."""

    @abstractmethod
    def remaining(self, key: str) -> float:
        """Seconds until a lock (or counter) expires; 0 when there is none."""

    @abstractmethod
    def forget(self, *keys: str) -> None:
        """Remove entries now."""


class MemoryStore(LimitStore):
    """This worker's memory: nothing is shared with other workers, and a restart forgets everything."""

    PURGE_EVERY = 1024

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, tuple[int, float]] = {}  # key: (value, expires at in `clock` seconds)
        self._lock = threading.Lock()
        self._writes = 0
        self._clock = clock

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._entries.get(key)
        if entry is not None and entry[1] <= now:
            del self._entries[key]
            return None
        return entry

    def _purge(self, now: float) -> None:
        # Bounded memory: expired entries go at least every PURGE_EVERY writes.
        self._writes += 1
        if self._writes % self.PURGE_EVERY == 0:
            for stale in [k for k, (_, expires) in self._entries.items() if expires <= now]:
                del self._entries[stale]

    def count(self, key: str, ttl_seconds: int, *, refresh: bool = False) -> int:
        now = self._clock()
        with self._lock:
            self._purge(now)
            entry = self._live(key, now)
            value = (entry[0] if entry else 0) + 1
            expires = now + ttl_seconds if entry is None or refresh else entry[1]
            self._entries[key] = (value, expires)
            return value

    def lock(self, key: str, seconds: float) -> None:
        now = self._clock()
        with self._lock:
            self._purge(now)
            self._entries[key] = (1, now + seconds)

    def remaining(self, key: str) -> float:
        now = self._clock()
        with self._lock:
            entry = self._live(key, now)
            return max(0.0, entry[1] - now) if entry else 0.0

    def forget(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)


class RedisStore(LimitStore):
    """A Redis server shared by every worker and app host (run it without persistence).

    If Redis cannot be reached the limits fail open (nothing counts, nothing is locked) and the error type is
    logged: an outage of the limits must not lose a report or lock out a reporter, and the secrets they guard
    (80-bit receipt codes, 90-bit passphrases) do not depend on them.
    """

    def __init__(self, url: str) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError,)

    def _unavailable(self, error: BaseException) -> None:
        logger.warning("limits store unavailable (%s): limits fail open", type(error).__name__)

    def count(self, key: str, ttl_seconds: int, *, refresh: bool = False) -> int:
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(key)
        # EXPIRE ... NX keeps the first hit's deadline (a fixed window); plain EXPIRE moves it on.
        if refresh:
            pipe.expire(key, ttl_seconds)
        else:
            pipe.expire(key, ttl_seconds, nx=True)
        try:
            value, _ = pipe.execute()
        except self._errors as error:
            self._unavailable(error)
            return 0
        return int(value)

    def lock(self, key: str, seconds: float) -> None:
        try:
            self._redis.set(key, 1, px=max(1, int(seconds * 1000)))
        except self._errors as error:
            self._unavailable(error)

    def remaining(self, key: str) -> float:
        try:
            millis = int(self._redis.pttl(key))
        except self._errors as error:
            self._unavailable(error)
            return 0.0
        return millis / 1000 if millis > 0 else 0.0

    def forget(self, *keys: str) -> None:
        if not keys:
            return
        try:
            self._redis.delete(*keys)
        except self._errors as error:
            self._unavailable(error)


def make_store(redis_url: str) -> LimitStore:
    """Redis when a URL is configured, else this worker's memory."""
    return RedisStore(redis_url) if redis_url else MemoryStore()


# --- budgets and backoff -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """Backoff after failures: `free` failures pass, then locks of `first` doubling up to `longest`.

    Failures are forgotten `longest` after the latest one.
    """

    free: int
    first: timedelta
    longest: timedelta

    def lock_after(self, failures: int) -> timedelta | None:
        """How long to lock after `failures` consecutive failures (None: not yet)."""
        if failures < self.free:
            return None
        period: timedelta = self.first * (2 ** min(failures - self.free, 20))
        return min(period, self.longest)


class Limits:
    """Budgets and backoff over one store, under keys that are keyed hashes of what they count."""

    def __init__(self, store: LimitStore, key: bytes, prefix: str, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._key = key
        self._prefix = prefix
        self._clock = clock  # wall-clock seconds: budget windows must line up across hosts

    @classmethod
    def in_memory(cls, clock: Callable[[], float] | None = None) -> Limits:
        """Fresh limits in this process's memory under a random key (for tools, and tests with a fake clock)."""
        return cls(MemoryStore(clock or time.monotonic), secrets.token_bytes(32), "", clock or time.time)

    def key(self, name: str, who: str = "") -> str:
        """The store key for `name` (what is limited) and `who` (a mailbox, a user name, a time window)."""
        digest = hashlib.blake2b(f"{name}\x00{who}".encode("utf-8", "replace"), key=self._key,
                                 digest_size=16, person=b"mk-limits").hexdigest()
        return f"{self._prefix}{digest}"

    def budget(self, name: str, rate: str) -> bool:
        """Take one unit of the global budget `rate` ("60 per 10 minutes"); False when it is used up."""
        item = parse_rate(rate)
        window = item.get_expiry()
        # The window's number is part of the key, so a counter never outlives its window even if an
        # expiry were lost.
        return self.store.count(self.key(name, str(int(self._clock()) // window)), window + 1) <= item.amount

    def locked(self, name: str, who: str) -> bool:
        return self.store.remaining(self.key(f"{name}/lock", who)) > 0

    def failed(self, name: str, who: str, schedule: Schedule) -> None:
        """Count a failure of `who`; lock them when the schedule says so."""
        failures = self.store.count(self.key(f"{name}/failures", who), int(schedule.longest.total_seconds()),
                                    refresh=True)
        period = schedule.lock_after(failures)
        if period is not None:
            self.store.lock(self.key(f"{name}/lock", who), period.total_seconds())

    def succeeded(self, name: str, who: str) -> None:
        self.store.forget(self.key(f"{name}/failures", who), self.key(f"{name}/lock", who))


def init_app(app: Flask, store: LimitStore, key: bytes, prefix: str) -> None:
    app.extensions[EXTENSION] = Limits(store, key, prefix)

    @app.errorhandler(Busy)
    def busy(_error: Busy) -> tuple[str, int, dict[str, str]]:
        # Views that hold a user's text catch Busy themselves and show their form again; this is the rest.
        return render_template("error.html", code=503), 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def limits_of(app: Flask | None = None) -> Limits:
    """The app's `Limits` (the current app's by default)."""
    limits: Limits = (app or current_app).extensions[EXTENSION]
    return limits


# --- process gates -----------------------------------------------------------------------------------


_GATES: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_GATES_LOCK = threading.Lock()


@contextmanager
def process_gate(name: str, size: int, wait_seconds: float) -> Iterator[None]:
    """Run the block when fewer than `size` others of gate `name` run in this process; Busy after waiting.

    For work that costs CPU or memory per host (staff Argon2id, mat2), so the gate is deliberately not shared."""
    with _GATES_LOCK:
        gate = _GATES.setdefault((name, size), threading.BoundedSemaphore(max(1, size)))
    if not gate.acquire(timeout=wait_seconds):
        raise Busy(name)
    try:
        yield
    finally:
        gate.release()
