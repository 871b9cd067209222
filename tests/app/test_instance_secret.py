"""instance/secret_key: every derived key depends on it, so a weak or exposed one stops the start."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.config import InstanceError, load_master_secret


@pytest.mark.parametrize("content", ["", "\n", "00" * 8, "not hex at all, but long enough " * 3])
def test_empty_short_or_garbled_key_is_refused(tmp_path: Path, content: str) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text(content)
    key_file.chmod(0o600)
    with pytest.raises(InstanceError):
        load_master_secret(tmp_path)


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    first = load_master_secret(tmp_path)
    assert len(first) == 32
    (tmp_path / "secret_key").chmod(0o644)
    with pytest.raises(InstanceError):
        load_master_secret(tmp_path)


def test_created_private_and_once_under_a_race(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(load_master_secret(instance))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 8 and len(set(results)) == 1
    assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600
    assert instance.stat().st_mode & 0o777 == 0o700
    assert [p.name for p in instance.iterdir()] == ["secret_key"]
