"""Cost of removing hidden data: a 20 MB JPEG and a 20 MB DOCX through app/services/scrub.py.

For each file, in one run: a plain copy of it on the storage disk (with fsync), the upload path without
cleaning (encrypt to storage), and the upload path with cleaning (encrypt, decrypt into tmpfs, mat2 --show
and mat2 in the sandbox, encrypt the cleaned copy). Prints seconds and the ratios to the plain copy.
Needs Pillow (test dependencies) and Debian's mat2.

    .venv/bin/python bench/scrub.py [--mb 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from upload import plain_copy_seconds  # noqa: E402  (bench/upload.py)

import crypto  # noqa: E402
from app.config import Settings  # noqa: E402
from app.models import Case, new_id  # noqa: E402
from app.services import scrub, storage  # noqa: E402
from app.services.cases import OpenCase  # noqa: E402
from app.services.upload import UploadedFile  # noqa: E402


def noise_jpeg(target_bytes: int) -> bytes:
    """A photo-sized JPEG of noise (the worst case for its coder) with EXIF camera and GPS data."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "BenchMake", "BenchModel"
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 41.0)})
    pixels = max(1, target_bytes)  # noise at quality 92 takes about a byte a pixel
    width = int((pixels * 4 / 3) ** 0.5)
    height = pixels // width
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, exif=exif)
    return out.getvalue()


def big_docx(target_bytes: int) -> bytes:
    """A Word document of that size: a long text and a large embedded photo, with author and company."""
    sys.path.insert(0, str(ROOT / "tests"))
    from hidden_files import docx_with_author  # type: ignore[import-not-found]

    text = " ".join(f"Alinea {n} van het verslag over de gang van zaken." for n in range(40_000))
    photo = noise_jpeg(target_bytes - len(text) - 100_000)
    return docx_with_author(author="Bench Auteur", company="Bench BV", text=text, picture=photo)


def upload(source: Path, name: str, settings: Settings, *, clean: bool) -> tuple[float, scrub.Outcome | None]:
    """The upload path from the first byte to the encrypted file ready to be kept (with or without cleaning)."""
    opened = OpenCase(Case(id=new_id()), crypto.new_case_key())
    start = time.perf_counter()
    writer = storage.begin_attachment(settings.storage_path, opened)
    size = 0
    with source.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            size += len(chunk)
            writer.write(chunk)
    uploaded = UploadedFile(writer, name, size)
    outcome = scrub.clean_uploads([uploaded], opened, settings, enabled=True)[0] if clean else None
    uploaded.writer.close()
    elapsed = time.perf_counter() - start
    uploaded.writer.abort()
    return elapsed, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    target = args.mb * 1_000_000
    with tempfile.TemporaryDirectory(dir=ROOT) as folder:
        instance = Path(folder)
        settings = Settings(instance_path=instance, database_url="sqlite://", storage_path=instance / "storage",
                            master_secret=os.urandom(32))
        scrub.supported_extensions(scrub._mat2() or "mat2")  # asked once per worker: not part of a file's cost
        for name, data in (("photo.jpg", noise_jpeg(target)), ("report.docx", big_docx(target))):
            source = instance / name
            source.write_bytes(data)
            copies, plains, cleans = [], [], []
            outcome = None
            for _ in range(args.rounds):
                copies.append(plain_copy_seconds(source, instance / "copy"))
                plains.append(upload(source, name, settings, clean=False)[0])
                elapsed, outcome = upload(source, name, settings, clean=True)
                cleans.append(elapsed)
            copy, plain, cleaned = (statistics.median(values) for values in (copies, plains, cleans))
            assert outcome is not None
            print(f"{name:12} {len(data) / 1e6:5.1f} MB  plain copy {copy:6.3f} s  upload {plain:6.3f} s "
                  f"({plain / copy:5.1f}x)  upload + cleaning {cleaned:6.2f} s ({cleaned / copy:6.1f}x)  "
                  f"-> {', '.join(outcome.kinds) if outcome.cleaned else outcome.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
