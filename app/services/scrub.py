"""Removing hidden data (metadata) from a reporter's files with Debian's mat2, before a file is kept.

The upload path encrypts every file as it streams in (app/services/upload.py), under a per-file key that
exists only in memory until the case is committed. Once the form is read, `clean_uploads()` takes each
file the reporter asked to clean and

1. checks what needs no plaintext: mat2 installed, the type supported (`mat2 --list`), the size within
   `scrub_max_bytes`, the work folder's file system really tmpfs (statfs), a free cleaning slot;
2. decrypts the file into a private 0700 folder on that tmpfs (RAM, never a disk-backed file system);
3. runs `mat2 --show` (to tell the reporter which kinds of data it found) and `mat2` (which writes
   `file.cleaned.<ext>`) in one subprocess: bubblewrap when installed (no network, only /usr and the work
   folder visible, an unprivileged uid, a small tmpfs for what mat2 unpacks), under `prlimit` (address
   space, CPU seconds, largest file) and a wall-clock deadline after which the whole process group is killed;
4. encrypts the cleaned copy as the file to keep and removes the first ciphertext and the folder at once.

Whatever cannot be cleaned is kept as it came, and the reporter is told which file and why. What happened
is recorded as a small JSON text that storage.py seals under the case key (`Attachment.cleaning_sealed`):
the kinds of data removed, never their values.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
import re
import shutil
import signal
import stat
import subprocess  # nosec B404 (mat2 runs in a bounded, sandboxed subprocess)
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

import crypto
from app.config import Settings
from app.services.cases import OpenCase
from app.services.limits import Busy, process_gate
from app.services.storage import AttachmentWriter, FileBatch, file_binding
from app.services.upload import UploadedFile

log = logging.getLogger(__name__)

# The form field: a hidden "no" followed by a checkbox "yes" (checked by default). A checked box sends
# both values, an unchecked one only "no", and a client that sends neither gets the safe default.
FIELD = "remove_hidden_data"
TMPFS_MAGIC = 0x01021994
COPY_CHUNK = 1024 * 1024
MAX_SHOW_BYTES = 1024 * 1024  # what we read of `mat2 --show`'s output (keys only are used)
STAGE = "file"  # the plaintext's name in the work folder: never the reporter's file name
SANDBOX_TMP = "/tmp"  # noqa: S108 (inside bubblewrap: a fresh, bounded tmpfs of its own)  # nosec B108 (inside bubblewrap)


def wanted(values: Sequence[str]) -> bool:
    """The reporter's choice from the form's values for FIELD: on unless only "no" was sent."""
    return not values or any(value != "no" for value in values)


# --- what the reporter and the handler are told ----------------------------------------------------------

KIND_WORDS = {
    "gps": _l("GPS location"),
    "device": _l("camera model"),
    "author": _l("author"),
    "company": _l("company"),
    "revisions": _l("revision history"),
    "dates": _l("dates and times"),
    "software": _l("software used"),
    "description": _l("titles and comments"),
    "other": _l("other hidden data"),
}
REASON_WORDS = {
    "declined": _l("Kept as it came, as you chose."),
    "unsupported": _l("Kept as it came: hidden data cannot be removed from this type of file."),
    "too_large": _l("Kept as it came: the file is too large to clean here."),
    "unavailable": _l("Kept as it came: removing hidden data is not available on this server."),
    "not_tmpfs": _l("Kept as it came: the server has no safe place in memory to clean files."),
    "busy": _l("Kept as it came: the server was too busy to clean it."),
    "timeout": _l("Kept as it came: cleaning took too long."),
    "failed": _l("Kept as it came: the cleaning tool could not read this file (it may be damaged)."),
}


@dataclass(frozen=True)
class Outcome:
    """What happened to one file: cleaned (with the kinds of data found), or kept as it came and why."""

    name: str
    cleaned: bool
    kinds: tuple[str, ...] = ()
    reason: str = ""

    def to_text(self) -> str:
        """The note sealed with the attachment (the name is sealed on its own already)."""
        if self.cleaned:
            return json.dumps({"v": 1, "cleaned": True, "kinds": list(self.kinds)})
        return json.dumps({"v": 1, "cleaned": False, "reason": self.reason})

    def describe(self) -> str:
        return describe(self.to_text())


def describe(note: str | None, *, for_staff: bool = False) -> str:
    """A sealed note in plain words, in the page's language ("" when there is none); `for_staff` speaks of
    the reporter's choice in the third person."""
    if not note:
        return ""
    try:
        data = json.loads(note)
    except ValueError:
        return ""
    if data.get("cleaned"):
        kinds = [str(KIND_WORDS[k]) for k in data.get("kinds", []) if k in KIND_WORDS]
        if not kinds:
            return str(_l("Cleaned: no hidden data was found."))
        return str(_l("Hidden data removed: %(kinds)s.", kinds=", ".join(kinds)))
    reason = str(data.get("reason"))
    if for_staff and reason == "declined":
        return str(_l("Kept as it came: the reporter chose not to remove hidden data."))
    return str(REASON_WORDS.get(reason, REASON_WORDS["failed"]))


# Keys of `mat2 --show` (exiftool, mutagen, poppler, office XML) to kinds; the first rule that matches wins.
_ID3 = {"TPE1": "author", "TPE2": "author", "TCOM": "author", "TEXT": "author", "TOLA": "author",
        "TIT1": "description", "TIT2": "description", "TIT3": "description", "TALB": "description",
        "COMM": "description", "TCON": "description", "USLT": "description", "TDRC": "dates", "TYER": "dates",
        "TDAT": "dates", "TIME": "dates", "TENC": "software", "TSSE": "software", "TPUB": "company",
        "TOWN": "author", "TCOP": "author", "WXXX": "other", "APIC": "other", "PRIV": "other", "GEOB": "other"}
_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gps", ("gps", "latitude", "longitude", "altitude", "location", "geotag")),
    ("software", ("software", "producer", "application", "creatortool", "appversion", "encoder", "generator",
                  "template", "hostcomputer")),
    ("revisions", ("revision", "rsid", "totaltime", "editingduration", "history", "versionid")),
    ("company", ("company", "organization", "organisation", "manager")),
    ("author", ("author", "creator", "artist", "lastmodifiedby", "owner", "byline", "initials", "copyright")),
    ("device", ("make", "model", "lens", "serial", "camera", "device")),
    ("dates", ("date", "time", "created", "modified", "year")),
    ("description", ("title", "subject", "comment", "description", "keyword", "category", "album", "caption")),
)
# Technical facts about the format itself, not about the person or the device.
_IGNORED = {"exifbyteorder", "format", "filetype", "mimetype", "encoding", "imagesize", "imagewidth",
            "imageheight", "bitspersample", "colorcomponents", "ycbcrsubsampling", "jfifversion",
            "resolutionunit", "xresolution", "yresolution", "exifversion", "compression", "orientation"}
_SHOW_LINE = re.compile(r"^\s+(?:- )?([^\s:][^:]*(?::[^\s:][^:]*)*?): (.*)$")


def kinds_found(show_output: str) -> tuple[str, ...]:
    """The kinds of data in `mat2 --show` output, in KIND_WORDS order (values are looked at only to skip
    the placeholders mat2 prints for absent fields, never kept)."""
    found: set[str] = set()
    for line in show_output.splitlines():
        match = _SHOW_LINE.match(line)
        if match is None:
            continue
        key, value = match.group(1).strip(), match.group(2).strip()
        if value in ("", "-1", "None"):
            continue
        found.add(_kind_of(key))
    found.discard("")
    return tuple(kind for kind in KIND_WORDS if kind in found)


def _kind_of(key: str) -> str:
    if key.lower() == "creator":  # PDF: the program that made the file (office XML says dc:creator)
        return "software"
    if key in _ID3 or key[:4] in _ID3:
        return _ID3.get(key, _ID3.get(key[:4], "other"))
    bare = re.sub(r"[^a-z0-9]", "", key.lower().rsplit(":", 1)[-1])
    if bare in _IGNORED:
        return ""
    for kind, words in _RULES:
        if any(word in bare for word in words):
            return kind
    return "other"


# --- the sandbox -----------------------------------------------------------------------------------------


def is_tmpfs(path: Path) -> bool:
    """statfs(2): is `path` on tmpfs (RAM)? Python's os.statvfs does not return the file system type."""
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(512)  # larger than struct statfs on every Linux ABI
    if libc.statfs(os.fsencode(path), buffer) != 0:
        return False
    f_type = ctypes.c_ulong.from_buffer(buffer).value & 0xFFFFFFFF  # the first field, a machine word
    return f_type == TMPFS_MAGIC



@functools.cache
def supported_extensions(mat2: str) -> frozenset[str]:
    """File name extensions mat2 can clean, from `mat2 --list` (asked once per process)."""
    try:
        result = subprocess.run([mat2, "--list"], capture_output=True, timeout=60, check=True,  # noqa: S603 (fixed argv)  # nosec B603 (fixed argv)
                                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    # Lines look like "  - image/jpeg (.jfif, .jpg, .jpeg, .jpe)". mat2 lists video even when ffmpeg, which
    # it needs for video, is missing: then a video is "a type we cannot clean", not "a damaged file".
    with_video = shutil.which("ffmpeg", path="/usr/bin:/bin") is not None
    extensions: set[str] = set()
    for mimetype, group in re.findall(r"-\s*(\S+)\s*\(([^)]*)\)", result.stdout.decode("utf-8", "replace").lower()):
        if with_video or not mimetype.startswith("video/"):
            extensions.update(ext.strip().lstrip(".") for ext in group.split(",") if ext.strip())
    return frozenset(extensions)


@functools.cache
def _bwrap_works(bwrap: str) -> bool:
    """bubblewrap is installed but may be unusable (no user namespaces): try it once per process."""
    try:
        result = subprocess.run(_bwrap_prefix(bwrap, None, 1 << 20) + ["/usr/bin/true"],  # noqa: S603 (fixed argv)  # nosec B603 (fixed argv)
                                capture_output=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.SubprocessError):
        return False
    if result.returncode != 0:
        log.warning("bubblewrap is installed but does not work here; mat2 runs without it")
    return result.returncode == 0


def _bwrap_prefix(bwrap: str, folder: Path | None, tmp_bytes: int) -> list[str]:
    """Only /usr (read-only), a few files of /etc and the work folder are visible; no network, no other
    process, an unprivileged uid; the sandbox dies with its parent. mat2 unpacks archives (an office file
    is a zip) into TMPDIR without any bound of its own: there TMPDIR is a tmpfs of `tmp_bytes`, so a zip
    bomb fills that and fails instead of the machine's memory."""
    prefix = [bwrap, "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib64", "lib32"):
        target = Path("/") / name
        if target.is_symlink():
            prefix += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            prefix += ["--ro-bind", str(target), str(target)]
    for name in ("ld.so.cache", "fonts", "mime.types", "alternatives", "perl"):
        prefix += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    if folder is not None:
        prefix += ["--bind", str(folder), "/work", "--chdir", "/work"]
    return prefix + [
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(tmp_bytes), "--tmpfs", SANDBOX_TMP,
        "--unshare-all", "--unshare-user",
        "--uid", "65534", "--gid", "65534", "--die-with-parent",
        "--new-session", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", SANDBOX_TMP,
        "--setenv", "TMPDIR", SANDBOX_TMP, "--setenv", "LANG", "C.UTF-8", "--",
    ]


# mat2 as Debian ships it, run as `mat2 --show FILE` and then `mat2 FILE` in one process (one Python and
# GObject start-up instead of two: most of the cost of a small file), with one change: its own bubblewrap
# around exiftool (libmat2.bubblewrap.run) runs the tool directly. That inner sandbox cannot nest inside
# ours (bwrap: "Can't mount proc"), breaks for files under /dev/shm (its fresh /dev hides them) and is
# missing where bwrap is: then mat2 fails on every office file with pictures. `--no-sandbox` does not help:
# in mat2 0.13 it switches the sandbox of the top-level file ON and never reaches the parsers of archive
# members. Ours is the sandbox that counts.
_RUNNER = """import runpy, subprocess, sys
import libmat2.bubblewrap
def run(args, input_filename=None, output_filename=None, **kwargs):
    return subprocess.run(args, **kwargs)
libmat2.bubblewrap.run = run
mat2, name = sys.argv[1:3]
for args in (["--show", name], [name]):
    sys.argv = [mat2, *args]
    print("[meldkluis] " + args[0], flush=True)
    try:
        runpy.run_path(mat2, run_name="__main__")
    except SystemExit as done:
        if done.code:
            raise
"""


@dataclass(frozen=True)
class _Sandbox:
    python: str
    mat2: str
    bwrap: str | None
    prlimit: str
    memory_bytes: int
    output_bytes: int
    cpu_seconds: int

    def command(self, folder: Path, name: str) -> tuple[list[str], dict[str, str], Path]:
        """The argv, environment and working directory for running mat2 on the file `name` in `folder`."""
        limits = [self.prlimit, f"--as={self.memory_bytes}", f"--cpu={self.cpu_seconds}",
                  f"--fsize={self.output_bytes}", "--core=0", "--"]
        mat2 = [self.python, "-c", _RUNNER, self.mat2, name]
        if self.bwrap is not None:
            return limits + _bwrap_prefix(self.bwrap, folder, self.output_bytes) + mat2, {}, folder
        env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "TMPDIR": str(folder), "LANG": "C.UTF-8"}
        return limits + mat2, env, folder


def _mat2() -> str | None:
    return shutil.which("mat2", path="/usr/bin:/bin:/usr/local/bin")


def _sandbox(mat2: str, settings: Settings) -> _Sandbox | None:
    prlimit = shutil.which("prlimit", path="/usr/bin:/bin")
    python = shutil.which("python3", path="/usr/bin:/bin")  # Debian's, which has libmat2
    if prlimit is None or python is None:
        return None
    bwrap = shutil.which("bwrap", path="/usr/bin:/bin")
    if bwrap is not None and not _bwrap_works(bwrap):
        bwrap = None
    # Output files (the cleaned copy, mat2's own temporary files) may be larger than the input: a PDF is
    # redrawn as images. Four times the largest input bounds what one run can put on the tmpfs.
    return _Sandbox(python, mat2, bwrap, prlimit, memory_bytes=settings.scrub_memory_bytes,
                    output_bytes=settings.scrub_max_bytes * 4 + (16 << 20),
                    cpu_seconds=max(1, int(settings.scrub_timeout_seconds)))


class _Refused(Exception):
    """This file stays as it came; `reason` is a key of REASON_WORDS."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _run(sandbox: _Sandbox, folder: Path, name: str, deadline: float) -> bytes:
    """Run mat2 on `name` in the sandbox (show, then clean); returns what `--show` printed. Its output goes
    to a file on the tmpfs (bounded by the file size limit)."""
    argv, env, cwd = sandbox.command(folder, name)
    # Read back through the descriptor we opened: whatever mat2 does to the name cannot redirect our read.
    with open(os.open(folder / "mat2-output.txt", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600), "w+b") as handle:
        # argv: fixed programs and options; the only file name is ours (STAGE plus a checked extension).
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=handle,  # noqa: S603  # nosec B603 (fixed programs; our file name)
                                   stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        try:
            returncode = process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            # The group holds mat2 and whatever it started (exiftool, bwrap's children die with bwrap).
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise _Refused("timeout") from None
        handle.seek(0)
        text = handle.read(MAX_SHOW_BYTES)
    if returncode != 0:
        raise _Refused("failed")
    return text.split(b"[meldkluis] " + name.encode(), 1)[0]


# --- cleaning one upload ---------------------------------------------------------------------------------


def _extension(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    extension = extension.lower()
    return extension if dot and stem and extension.isascii() and extension.isalnum() else ""


def _decrypt_into(writer: AttachmentWriter, opened: OpenCase, target: Path) -> None:
    size = writer.close()
    binding = file_binding(opened.case.id, writer.attachment_id)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with writer.path.open("rb") as source, open(fd, "wb") as sink:
        for chunk in crypto.iter_decrypted_file(source, writer.file_key, binding, size):
            sink.write(chunk)


def _open_cleaned(path: Path) -> BinaryIO:
    """mat2's output, only if it is a plain file of its own: never a link (mat2 taken over by a hostile
    file could leave file.cleaned.jpg -> instance/secret_key for us to encrypt into the reporter's case),
    a FIFO (would block) or a directory."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise _Refused("failed") from None
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1:
        os.close(fd)
        raise _Refused("failed")
    return open(fd, "rb")


def _encrypt_from(source: BinaryIO, batch: FileBatch) -> tuple[AttachmentWriter, int]:
    writer = batch.begin_replacement()  # owned by the request's batch, so a later failure removes it too
    size = 0
    try:
        with source as handle:
            while chunk := handle.read(COPY_CHUNK):
                size += len(chunk)
                writer.write(chunk)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return writer, size


def _clean_in_private_folder(uploaded: UploadedFile, batch: FileBatch, sandbox: _Sandbox, root: Path,
                             extension: str, settings: Settings) -> tuple[AttachmentWriter, int, bytes]:
    """Decrypt into a fresh 0700 folder on tmpfs, run mat2, encrypt the cleaned copy; the folder goes at once."""
    deadline = time.monotonic() + settings.scrub_timeout_seconds
    try:
        folder = Path(tempfile.mkdtemp(prefix="mk-scrub-", dir=root))  # mode 0700
    except OSError:
        raise _Refused("busy") from None
    try:
        staged = folder / f"{STAGE}.{extension}"
        try:
            _decrypt_into(uploaded.writer, batch.opened, staged)
            shown = _run(sandbox, folder, staged.name, deadline)
        except OSError:  # the tmpfs is full, or too many processes: this file is kept as it came
            raise _Refused("busy") from None
        cleaned = _open_cleaned(folder / f"{STAGE}.cleaned.{extension}")
        staged.unlink()  # the original plaintext goes first
        writer, size = _encrypt_from(cleaned, batch)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return writer, size, shown


def _clean(uploaded: UploadedFile, batch: FileBatch, settings: Settings) -> tuple[str, ...]:
    """Replace `uploaded`'s file by its cleaned copy and return the kinds found, or raise _Refused."""
    # Cheapest first: a file that is not cleaned costs the upload path nothing measurable.
    if uploaded.size > settings.scrub_max_bytes:
        raise _Refused("too_large")
    mat2 = _mat2()
    if mat2 is None or not supported_extensions(mat2):
        raise _Refused("unavailable")
    extension = _extension(uploaded.name)
    if extension not in supported_extensions(mat2):
        raise _Refused("unsupported")
    sandbox = _sandbox(mat2, settings)
    if sandbox is None:
        raise _Refused("unavailable")
    root = settings.scrub_tmp_path
    if not root.is_dir() or not is_tmpfs(root):
        log.warning("scrub folder %s is not tmpfs: files are kept as they came", root)
        raise _Refused("not_tmpfs")
    room = os.statvfs(root)
    if room.f_bavail * room.f_frsize < 3 * uploaded.size + (16 << 20):
        raise _Refused("busy")
    try:
        with process_gate("scrub", settings.scrub_concurrency, settings.scrub_timeout_seconds):
            writer, size, shown = _clean_in_private_folder(uploaded, batch, sandbox, root, extension, settings)
    except Busy:
        raise _Refused("busy") from None
    uploaded.writer.abort()
    uploaded.writer, uploaded.size = writer, size
    return kinds_found(shown.decode("utf-8", "replace"))


def clean_uploads(files: Iterable[UploadedFile], batch: FileBatch, settings: Settings,
                  *, enabled: bool) -> list[Outcome]:
    """Clean each file in place (see the module docstring); returns what happened to each, in order.

    Every file gets a note that storage.py seals into its row. On an unexpected error every file is
    removed and the error raised, like any other failure of the upload.
    """
    files = list(files)
    outcomes: list[Outcome] = []
    try:
        for uploaded in files:
            if not enabled:
                outcome = Outcome(uploaded.name, cleaned=False, reason="declined")
            else:
                try:
                    outcome = Outcome(uploaded.name, cleaned=True,
                                      kinds=_clean(uploaded, batch, settings))
                except _Refused as refused:
                    outcome = Outcome(uploaded.name, cleaned=False, reason=refused.reason)
            uploaded.writer.cleaning = outcome.to_text()
            outcomes.append(outcome)
    except BaseException:
        for uploaded in files:
            uploaded.writer.abort()
        raise
    return outcomes
