"""Real files with planted hidden data, built by the tests (no binary fixtures in the repository).

Each builder takes the values to plant, so a test can look for exactly those bytes afterwards.
"""

from __future__ import annotations

import io
import struct
import zipfile


def jpeg_with_exif(*, make: str, model: str, latitude: tuple[int, int, int] = (52, 22, 41)) -> bytes:
    """A photo with EXIF camera make and model and a GPS position (Pillow writes the EXIF)."""
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = make  # Make
    exif[0x0110] = model  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = tuple(float(part) for part in latitude)  # GPSLatitude
    gps[3] = "E"
    gps[4] = (4.0, 53.0, 12.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>
</Relationships>"""
_DOCUMENT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p w:rsidR="{rsid}"><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"""
_CORE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<dc:creator>{author}</dc:creator><cp:lastModifiedBy>{author}</cp:lastModifiedBy><cp:revision>7</cp:revision>
<dcterms:created xsi:type="dcterms:W3CDTF">2026-03-02T09:14:00Z</dcterms:created>
</cp:coreProperties>"""
_APP = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">
<Company>{company}</Company><Application>Microsoft Office Word</Application><TotalTime>42</TotalTime>
</Properties>"""


def docx_with_author(*, author: str, company: str, text: str = "Verslag van de vergadering.",
                     picture: bytes | None = None) -> bytes:
    """A minimal Word document with author, last editor, revision count and company in its properties,
    and optionally a picture (a JPEG, which may carry its own EXIF) stored in it. Stored, not compressed,
    so the planted values are plain bytes of the file."""
    out = io.BytesIO()
    content_types = _CONTENT_TYPES
    if picture is not None:
        content_types = content_types.replace('<Default Extension="xml"',
                                              '<Default Extension="jpeg" ContentType="image/jpeg"/>'
                                              '<Default Extension="xml"')
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        if picture is not None:
            archive.writestr("word/media/image1.jpeg", picture)
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", _DOCUMENT.format(rsid="00A1B2C3", text=text))
        archive.writestr("docProps/core.xml", _CORE.format(author=author))
        archive.writestr("docProps/app.xml", _APP.format(company=company))
    return out.getvalue()


def pdf_with_author(*, author: str, company: str, text: str = "Verslag") -> bytes:
    """A one-page PDF whose document information names the author and the company (xref offsets exact)."""
    stream = f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Author ({author}) /Company ({company}) /Creator (Microsoft Word) /Producer (Acme PDF) >>".encode(),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _id3_frame(frame_id: str, text: str) -> bytes:
    body = b"\x03" + text.encode("utf-8")  # encoding byte 3: UTF-8
    return frame_id.encode() + struct.pack(">I", len(body)) + b"\x00\x00" + body


def _syncsafe(size: int) -> bytes:
    return bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])


def mp3_with_id3(*, artist: str, title: str, frames: int = 20) -> bytes:
    """An MP3 (silent MPEG-1 layer III frames, 128 kbit/s, 44.1 kHz) with an ID3v2.4 tag: artist and title."""
    tag_body = _id3_frame("TPE1", artist) + _id3_frame("TIT2", title) + _id3_frame("TENC", "Recorder 1.0")
    tag = b"ID3\x04\x00\x00" + _syncsafe(len(tag_body)) + tag_body
    frame = b"\xff\xfb\x90\x00" + b"\x00" * (417 - 4)  # 144 * 128000 / 44100 = 417 bytes, no padding
    return tag + frame * frames


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A small PNG that claims a huge picture: decoding it would need width * height * 3 bytes of memory."""
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * (width * 3)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
