"""Typed settings, read once from the environment and the instance folder.

Every setting has a documented default (README.md, "Configuration"). The master secret lives in
``instance/secret_key`` (mode 0600, created on first start; a short key or a loose mode stops the start); the Flask secret key and the receipt
lookup key are derived from it, so one file is all an operator has to protect and back up.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from crypto.params import HANDLER_KDF, TEST_KDF, KdfParams

ROOT = Path(__file__).resolve().parent.parent
# tmpfs on every Linux; scrub.py makes a private 0700 folder in it per file and checks it is tmpfs.
SCRUB_TMP_DEFAULT = "/dev/shm"  # noqa: S108  # nosec B108 (tmpfs; see above)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_workers() -> int:
    """gunicorn worker processes: MELDKLUIS_WORKERS, else one per CPU (at least two); SQLite gets one.

    One SQLite file behind several processes makes writers wait on each other's locks, and anything a
    worker keeps in memory (limits, backoff without Redis) would be counted per process.
    """
    configured = os.environ.get("MELDKLUIS_WORKERS", "")
    if configured:
        return int(configured)
    if os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"):
        return 1
    return max(2, os.cpu_count() or 1)


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def with_password_from_file(url: str, password_file: str) -> str:
    """The database URL with the password read from a file (a Compose or systemd secret), never from the env."""
    if not password_file:
        return url
    from sqlalchemy.engine import make_url

    password = Path(password_file).read_text().strip()
    return make_url(url).set(password=password).render_as_string(hide_password=False)


MASTER_SECRET_BYTES = 32


class InstanceError(RuntimeError):
    """The instance folder or its secret is unsafe to run with; the message says what to fix."""


def private_folder(path: Path) -> Path:
    """Create `path` (mode 0700), or tighten an existing one that others could read."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def load_master_secret(instance_path: Path) -> bytes:
    """Read the instance's master secret, creating it (mode 0600) on first start.

    Refuses a key that is short, not hex, or readable by group or others: every derived key (Flask session,
    CSRF, receipt lookup) would be guessable or public. Creation is atomic: the key is written to a private
    temporary file and linked into place, so two workers starting at once end up with one and the same key.
    """
    private_folder(instance_path)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        _create_secret(key_file)
    mode = key_file.stat().st_mode
    if mode & 0o077:
        raise InstanceError(f"{key_file} may be read by others (mode {mode & 0o777:o}); run: chmod 600 {key_file}")
    try:
        secret = bytes.fromhex(key_file.read_text().strip())
    except ValueError:
        secret = b""
    if len(secret) < MASTER_SECRET_BYTES:
        raise InstanceError(f"{key_file} must hold at least {MASTER_SECRET_BYTES} random bytes as hex; "
                            "remove the file to have a new one made (existing receipt codes then stop working)")
    return secret


def _create_secret(key_file: Path) -> None:
    temporary = key_file.with_name(f".{key_file.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(MASTER_SECRET_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        # link() never replaces: if another process was first, its key stays and this one is dropped.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, key_file)
    finally:
        temporary.unlink(missing_ok=True)


def private_sqlite_file(database_url: str) -> None:
    """Create the SQLite database file with mode 0600 before SQLite would create it world-readable."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or database_url[len(prefix):] in ("", ":memory:"):
        return
    path = Path(database_url[len(prefix):].split("?", 1)[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


def derive_subkey(master: bytes, purpose: str) -> bytes:
    """Independent 32-byte keys from one master secret (BLAKE2b keyed hash, one purpose each)."""
    return hashlib.blake2b(purpose.encode(), key=master, digest_size=32).digest()


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    storage_path: Path
    master_secret: bytes = field(repr=False)
    base_url: str = "http://127.0.0.1:8000"
    onion_address: str = ""
    max_file_bytes: int = 500 * 1024 * 1024
    max_files: int = 10
    max_text_chars: int = 20_000
    handler_kdf: KdfParams = HANDLER_KDF
    reporter_idle_minutes: int = 15
    handler_idle_minutes: int = 30
    handler_session_max_hours: int = 12
    upload_grace_hours: int = 24
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "meldkluis@localhost"
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False
    notify_times: tuple[str, ...] = ("08:00", "16:00")
    timezone: str = "Europe/Amsterdam"
    secure_cookies: bool = False
    testing: bool = False
    # Abuse limits (app/services/limits.py; README "Limits").
    redis_url: str = ""
    redis_prefix: str = "meldkluis:"
    login_unknown_limit: str = "60 per minute"
    staff_login_limit: str = "30 per minute"
    staff_kdf_concurrency: int = 1
    submit_limit: str = "60 per 10 minutes"
    storage_reserve_bytes: int = 1024 * 1024 * 1024
    # Removing hidden data from files (app/services/scrub.py): a tmpfs folder, and per file a size,
    # time and memory bound for mat2, and how many files are cleaned at once per worker.
    scrub_tmp_path: Path = Path(SCRUB_TMP_DEFAULT)
    scrub_max_bytes: int = 100 * 1024 * 1024
    scrub_timeout_seconds: float = 60.0
    scrub_memory_bytes: int = 1024 * 1024 * 1024
    scrub_concurrency: int = 2

    @property
    def flask_secret_key(self) -> bytes:
        return derive_subkey(self.master_secret, "flask-secret-key")

    @property
    def receipt_lookup_key(self) -> bytes:
        return derive_subkey(self.master_secret, "receipt-lookup")

    @property
    def mailbox_cookie_key(self) -> bytes:
        return derive_subkey(self.master_secret, "mailbox-cookie")

    @property
    def csrf_key(self) -> bytes:
        return derive_subkey(self.master_secret, "csrf")

    @property
    def limits_key(self) -> bytes:
        return derive_subkey(self.master_secret, "limits")

    @property
    def ratelimit_storage_uri(self) -> str:
        """Flask-Limiter keeps its counters in the same Redis as the other limits (or in memory)."""
        return self.redis_url or "memory://"

    @classmethod
    def from_environment(cls, **overrides: Any) -> Settings:
        instance = Path(os.environ.get("MELDKLUIS_INSTANCE", ROOT / "instance")).resolve()
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'meldkluis.db'}"
        kdf_profile = os.environ.get("MELDKLUIS_KDF", "")
        base_url = os.environ.get("MELDKLUIS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
        settings = cls(
            instance_path=instance,
            database_url=with_password_from_file(normalize_database_url(database_url),
                                                 os.environ.get("MELDKLUIS_DATABASE_PASSWORD_FILE", "")),
            storage_path=Path(os.environ.get("MELDKLUIS_STORAGE", instance / "storage")).resolve(),
            master_secret=load_master_secret(instance),
            base_url=base_url,
            onion_address=os.environ.get("MELDKLUIS_ONION_ADDRESS", ""),
            max_file_bytes=_env_int("MELDKLUIS_MAX_FILE_MB", 500) * 1024 * 1024,
            max_files=_env_int("MELDKLUIS_MAX_FILES", 10),
            handler_kdf=TEST_KDF if kdf_profile == "test" else HANDLER_KDF,
            reporter_idle_minutes=_env_int("MELDKLUIS_REPORTER_IDLE_MINUTES", 15),
            handler_idle_minutes=_env_int("MELDKLUIS_HANDLER_IDLE_MINUTES", 30),
            handler_session_max_hours=_env_int("MELDKLUIS_HANDLER_SESSION_HOURS", 12),
            upload_grace_hours=_env_int("MELDKLUIS_UPLOAD_GRACE_HOURS", 24),
            smtp_host=os.environ.get("MELDKLUIS_SMTP_HOST", ""),
            smtp_port=_env_int("MELDKLUIS_SMTP_PORT", 25),
            smtp_from=os.environ.get("MELDKLUIS_SMTP_FROM", "meldkluis@localhost"),
            smtp_user=os.environ.get("MELDKLUIS_SMTP_USER", ""),
            smtp_password=os.environ.get("MELDKLUIS_SMTP_PASSWORD", ""),
            smtp_starttls=_env_bool("MELDKLUIS_SMTP_STARTTLS", False),
            notify_times=tuple(
                t.strip() for t in os.environ.get("MELDKLUIS_NOTIFY_TIMES", "08:00,16:00").split(",") if t.strip()
            ),
            secure_cookies=_env_bool("MELDKLUIS_SECURE_COOKIES", base_url.startswith("https://")),
            redis_url=os.environ.get("MELDKLUIS_REDIS_URL", ""),
            redis_prefix=os.environ.get("MELDKLUIS_REDIS_PREFIX", "meldkluis:"),
            login_unknown_limit=os.environ.get("MELDKLUIS_LOGIN_UNKNOWN_LIMIT", "60 per minute"),
            staff_login_limit=os.environ.get("MELDKLUIS_STAFF_LOGIN_LIMIT", "30 per minute"),
            staff_kdf_concurrency=_env_int("MELDKLUIS_STAFF_KDF_CONCURRENCY", 1),
            submit_limit=os.environ.get("MELDKLUIS_SUBMIT_LIMIT", "60 per 10 minutes"),
            storage_reserve_bytes=_env_int("MELDKLUIS_STORAGE_RESERVE_MB", 1024) * 1024 * 1024,
            scrub_tmp_path=Path(os.environ.get("MELDKLUIS_SCRUB_TMP", SCRUB_TMP_DEFAULT)),
            scrub_max_bytes=_env_int("MELDKLUIS_SCRUB_MAX_MB", 100) * 1024 * 1024,
            scrub_timeout_seconds=float(_env_int("MELDKLUIS_SCRUB_TIMEOUT", 60)),
            scrub_memory_bytes=_env_int("MELDKLUIS_SCRUB_MEMORY_MB", 1024) * 1024 * 1024,
            scrub_concurrency=_env_int("MELDKLUIS_SCRUB_CONCURRENCY", 2),
        )
        return replace(settings, **overrides) if overrides else settings
