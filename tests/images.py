"""Image files for tests, made on the spot with Pillow or by hand: real photos, a phone photo's metadata,
decompression bombs that cost nothing to make, polyglots and lies."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def picture(size: tuple[int, int] = (1200, 900), fmt: str = "JPEG", mode: str = "RGB", **save) -> bytes:  # type: ignore[no-untyped-def]
    """A real image: a left half red and a right half blue (so a turned picture can be told); with an
    alpha channel, the top rows are see-through."""
    image = Image.new(mode, size, "red")
    image.paste("blue", (size[0] // 2, 0, size[0], size[1]))
    if "A" in mode:
        image.paste((0, 0, 0, 0), (0, 0, size[0], size[1] // 4))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def camera_jpeg() -> bytes:
    """A phone photo's metadata: where it was taken (GPS), the camera, and "turn me 90 degrees"."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "PhoneMaker", "Phone 12", 6  # make, model, orientation
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}  # the GPS block
    return picture((1600, 1200), exif=exif, comment=b"taken at home")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of any size, made without holding its pixels: a 20,000 x 20,000 one is
    48 KB here and would take 400 million pixels (over a gigabyte in RGB) to decode."""
    row = b"\0" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")


def gif_html_polyglot() -> bytes:
    """A GIF that is a web page too: the page in the GIF's comment, and again after its end."""
    page = b"<html><body><script>alert(document.cookie)</script></body></html>"
    return picture((10, 10), "GIF", comment=page) + page


def png_html_polyglot() -> bytes:
    """A PNG that Pillow opens happily, with a web page after its end."""
    return picture((40, 40), "PNG") + b"<!doctype html><script>fetch('/admin/users')</script>"


SVG_WITH_SCRIPT = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                   b'<script>alert(1)</script><rect width="10" height="10"/></svg>')


class RewoundFile(io.BytesIO):
    """A file to upload again and again: the test client closes what it sent, and this rewinds instead."""

    def close(self) -> None:
        self.seek(0)
