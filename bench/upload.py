"""Upload budget: a large attachment through the real upload path (gunicorn, streaming, encryption).

Prints the upload speed as a ratio of a plain copy of the same file on the same disk (budget >= 0.5x) and how
far the gunicorn worker's resident memory grows over its idle size during an upload (budget <= 16 MiB).
The ratio is the median of three rounds, each a copy and then an upload (one copy, timed once before the
server started, swung between 68 and 362 MB/s over runs).
Idle is the worker's RSS after it has served the form and one small submission with a file (so lazy imports
and first-use allocations count as idle); the worker's peak (VmHWM) is then reset through /proc/PID/clear_refs
and read again after the first upload. Default size 1 GiB (`--mib`).

    .venv/bin/python bench/upload.py [--mib 1024] [--rounds 3]   (DATABASE_URL: a private schema on that PostgreSQL)
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import bench_environment, gunicorn_server, private_database, temporary_instance  # noqa: E402
from submit import add_recipient  # noqa: E402

BOUNDARY = "----meldkluisbench" + secrets.token_hex(8)
# A report goes only to readers the reporter keeps ticked (the form ticks the channel's recipients).
TICKED = re.compile(r'<input checked[^>]* name="recipients" type="checkbox" value="([^"]+)"')


def make_file(path: Path, mib: int) -> None:
    """The file to send, on the disk before anything is timed (its write-back would slow what runs next)."""
    block = os.urandom(1024 * 1024)
    with path.open("wb") as handle:
        for _ in range(mib):
            handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())


def plain_copy_seconds(source: Path, target: Path) -> float:
    start = time.perf_counter()
    shutil.copyfile(source, target)
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def form_fields(token: str, recipients: list[str]) -> list[tuple[str, str]]:
    return [("csrf_token", token), ("category", "fraude"), ("what", "Benchmark upload."), ("ongoing", "unknown"),
            *[("recipients", recipient) for recipient in recipients]]


def multipart_parts(fields: list[tuple[str, str]], file_path: Path) -> tuple[bytes, bytes]:
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    )
    head += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{file_path.name}"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail


def upload_seconds(base: str, file_path: Path) -> tuple[float, int]:
    page = urllib.request.urlopen(f"{base}/nl/melden/misstand", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("no CSRF token on the submit form")
    fields = form_fields(token.group(1), TICKED.findall(page))
    head, tail = multipart_parts(fields, file_path)
    length = len(head) + file_path.stat().st_size + len(tail)
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=600)

    def body():  # type: ignore[no-untyped-def]
        yield head
        with file_path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk
        yield tail

    if shutil.which("curl"):
        # curl streams the file from C: the client then takes little of the machine's two cores.
        form = [argument for name, value in fields for argument in ("-F", f"{name}={value}")]
        form += ["-F", f"files=@{file_path};type=application/octet-stream"]
        start = time.perf_counter()
        result = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:",
                                 "-H", "Sec-Fetch-Site: same-origin", *form, f"{base}/nl/melden/misstand"],
                                capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - start
        if result.stdout.strip() != "200":
            raise RuntimeError(f"upload failed with status {result.stdout}")
        return elapsed, 200
    start = time.perf_counter()
    connection.request("POST", "/nl/melden/misstand", body=body(), headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Content-Length": str(length),
        "Sec-Fetch-Site": "same-origin"})
    response = connection.getresponse()
    text = response.read().decode(errors="replace")
    elapsed = time.perf_counter() - start
    if response.status != 200 or "receipt" not in text.lower() and "ontvangst" not in text.lower():
        raise RuntimeError(f"upload failed with status {response.status}")
    return elapsed, response.status


def worker_pid(port: str) -> int:
    """The one gunicorn worker (a gunicorn process whose parent is the gunicorn master) of this server."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes().decode(errors="replace")
            ppid = int(re.search(r"PPid:\s+(\d+)", text).group(1))  # type: ignore[union-attr]
            parent = (Path("/proc") / str(ppid) / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, AttributeError):
            continue
        if "gunicorn" in cmdline and f"127.0.0.1:{port}" in cmdline and "gunicorn" in parent:
            return int(status.parent.name)
    raise RuntimeError("no gunicorn worker found")


def memory_mib(pid: int, field: str) -> float:
    match = re.search(rf"{field}:\s+(\d+) kB", (Path("/proc") / str(pid) / "status").read_text())
    assert match is not None
    return int(match.group(1)) / 1024


def warm_up(base: str, instance: Path) -> None:
    """Serve the form and one small submission with a file, as the worker does before any large upload."""
    small = instance / "small.bin"
    small.write_bytes(os.urandom(256 * 1024))
    upload_seconds(base, small)
    small.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    copies: list[float] = []
    uploads: list[float] = []
    with temporary_instance() as folder, private_database(os.environ.get("DATABASE_URL")) as url:
        instance = Path(folder)
        source = instance / "upload.bin"
        make_file(source, args.mib)
        env = bench_environment(instance, url, MELDKLUIS_MAX_FILE_MB=str(args.mib + 16), MELDKLUIS_MAX_FILES="1")
        os.environ.update(env)
        with gunicorn_server(env, workers=1, threads=2) as base:
            add_recipient()
            worker = worker_pid(base.rsplit(":", 1)[1])
            warm_up(base, instance)
            idle = memory_mib(worker, "VmRSS")
            (Path("/proc") / str(worker) / "clear_refs").write_text("5")  # reset VmHWM to the current RSS
            for _ in range(args.rounds):  # alternately, so that the disk's and the machine's mood hit both sides
                copies.append(plain_copy_seconds(source, instance / "copy.bin"))
                uploads.append(upload_seconds(base, source)[0])
                if len(uploads) == 1:
                    peak = memory_mib(worker, "VmHWM")  # the memory budget is one upload's
        stored = max(p.stat().st_size for p in (instance / "storage").rglob("*") if p.is_file())
    size_mb = args.mib * 1024 * 1024 / 1e6
    ratios = [copy / upload for copy, upload in zip(copies, uploads, strict=True)]
    ratio = statistics.median(ratios)
    print(f"file                 {args.mib} MiB, {args.rounds} rounds of a plain copy then an upload")
    for number, (copy, upload) in enumerate(zip(copies, uploads, strict=True), start=1):
        print(f"round {number}              plain copy {copy:.2f} s ({size_mb / copy:.0f} MB/s), upload (encrypting) "
              f"{upload:.2f} s ({size_mb / upload:.0f} MB/s): {copy / upload:.2f}x")
    growth = peak - idle
    print(f"speed ratio          {ratio:.2f}x of a plain copy, median of the rounds (budget >= 0.5x): "
          f"{'OK' if ratio >= 0.5 else 'OVER BUDGET'}")
    print(f"worker RSS           idle {idle:.1f} MiB, peak during the first upload {peak:.1f} MiB")
    print(f"worker growth        {growth:.1f} MiB over idle (budget <= 16 MiB): "
          f"{'OK' if growth <= 16 else 'OVER BUDGET'}")
    print(f"stored ciphertext    {stored} bytes (one upload)")
    return 0 if ratio >= 0.5 and growth <= 16 else 1


if __name__ == "__main__":
    sys.exit(main())
