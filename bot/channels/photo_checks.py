"""Photos residents upload in the web chat: checked, re-encoded and stripped before the assistant keeps them.

A browser can send anything as a "photo". Pillow decodes it (pillow-heif adds
HEIC/HEIF, what iPhones take), which proves it is an image of a format we
accept; the pixels are then copied into a new image and encoded again, so
nothing the camera or an editor wrote (EXIF: the device, the time, the GPS
position; XMP, comments, colour profiles) and nothing hidden after the image
data reaches the city's back office. The GPS position is read first: the page
offers it to the resident as the report's location, never uses it unasked.

Decoding is CPU and memory work: `checked_photo` runs it in a worker thread,
off the event loop, one photo at a time per process, and a JPEG is decoded
straight at a reduced scale when it is larger than what is kept.
"""

from __future__ import annotations

import asyncio
import io
import math
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import pillow_heif
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

# Pillow's names of the formats accepted: what phones and cameras save.
ACCEPTED_FORMATS = ("JPEG", "PNG", "HEIF")
# A photo with more pixels than a 48-megapixel phone camera's is refused before it is decoded.
MAX_PIXELS = 50_000_000
# The longest side the assistant keeps: enough to see a pothole, small to store and fetch.
MAX_SIDE = 2560
JPEG_QUALITY = 85
_decoding: Optional[asyncio.Semaphore] = None  # one decode at a time in this process (made on first use)

# Why a photo was refused (the page shows the resident the matching text) and the HTTP status it gets.
EMPTY = "empty"
TOO_LARGE = "too_large"
NOT_A_PHOTO = "not_a_photo"


class PhotoRefused(Exception):
    """A file that is not a photo the assistant keeps; `reason` is one of the names above."""

    STATUS = {EMPTY: 400, TOO_LARGE: 413, NOT_A_PHOTO: 415}

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.status = self.STATUS[reason]


@dataclass(frozen=True)
class Photo:
    """A photo as the assistant keeps it: re-encoded, without metadata, and where it was taken if the camera said."""

    data: bytes
    content_type: str
    width: int
    height: int
    position: Optional[Tuple[float, float]]  # (latitude, longitude) from its EXIF GPS, before it was stripped


def _degrees(value: Any, reference: Any, negative: str) -> Optional[float]:
    """EXIF's degrees, minutes, seconds (rationals) and N/S or E/W as signed decimal degrees."""
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    total = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(total):  # a rational with a zero denominator reads as NaN
        return None
    if isinstance(reference, bytes):
        reference = reference.decode("ascii", "replace")
    return -total if str(reference).strip().upper() == negative else total


def exif_position(exif: Image.Exif) -> Optional[Tuple[float, float]]:
    """The (latitude, longitude) of a photo's EXIF GPS block, or None when absent or not a place on Earth."""
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if not gps:
        return None
    latitude = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
    longitude = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or (latitude, longitude) == (0.0, 0.0):
        return None  # (0, 0) is what some cameras write when they had no fix
    return round(latitude, 6), round(longitude, 6)


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding only `image`'s pixels: no info, EXIF, profile or palette tricks carried over."""
    keep_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if keep_alpha else "RGB"
    converted = image.convert(mode)
    return Image.frombytes(mode, converted.size, converted.tobytes())


def check_photo(data: bytes, max_bytes: int) -> Photo:
    """Decode, check and re-encode an uploaded file (blocking: see `checked_photo`).

    JPEG and HEIC become JPEG (what any back office shows), PNG stays PNG (screenshots,
    transparency); the camera's orientation is applied before its EXIF goes.
    """
    if not data:
        raise PhotoRefused(EMPTY, "the file is empty")
    if len(data) > max_bytes:
        raise PhotoRefused(TOO_LARGE, f"the file is larger than {max_bytes} bytes")
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            kind = image.format
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused(TOO_LARGE, f"the photo has more than {MAX_PIXELS} pixels")
            position = exif_position(image.getexif())
            if kind == "JPEG":
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decoded at 1/2, 1/4 or 1/8 scale when that still fits
            upright = ImageOps.exif_transpose(image) or image
            upright.load()
            upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            clean = _pixels_only(upright)
    except PhotoRefused:
        raise
    except Image.DecompressionBombError:
        raise PhotoRefused(TOO_LARGE, f"the photo has more than {MAX_PIXELS} pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise PhotoRefused(NOT_A_PHOTO, "the file is not a JPEG, PNG or HEIC photo") from None
    out = io.BytesIO()
    if kind == "PNG":
        clean.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    else:
        clean.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        content_type = "image/jpeg"
    return Photo(out.getvalue(), content_type, clean.width, clean.height, position)


async def checked_photo(data: bytes, max_bytes: int) -> Photo:
    """`check_photo` in a worker thread, so decoding never holds up the event loop; one at a time."""
    global _decoding
    if _decoding is None:
        _decoding = asyncio.Semaphore(1)
    async with _decoding:
        return await asyncio.to_thread(check_photo, data, max_bytes)
