"""Real photo files for tests, made with Pillow and pillow-heif: JPEG, PNG or HEIC, with a camera's EXIF if asked."""

from __future__ import annotations

import io
from typing import Any, Dict, Optional, Tuple

import pillow_heif
from PIL import ExifTags, Image

pillow_heif.register_heif_opener()

# 41°25'30" N, 90°37'12" W: a street in Riverton, as a camera writes it.
GPS: Dict[int, Any] = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (41.0, 25.0, 30.0),
    ExifTags.GPS.GPSLongitudeRef: "W",
    ExifTags.GPS.GPSLongitude: (90.0, 37.0, 12.0),
}
RIVERTON = (41.425, -90.62)  # GPS in decimal degrees


def camera_exif(gps: Optional[Dict[int, Any]] = None, orientation: int = 1) -> Image.Exif:
    """The tags a phone writes: its make and model, the orientation, and where it was if `gps`."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Pixelphone"
    exif[ExifTags.Base.Model] = "Pixelphone 9 Pro"
    exif[ExifTags.Base.Orientation] = orientation
    if gps is not None:
        exif[ExifTags.IFD.GPSInfo] = gps
    return exif


def photo_bytes(kind: str, size: Tuple[int, int] = (64, 48), mode: str = "RGB", **save: Any) -> bytes:
    """A file of Pillow format `kind` ("JPEG", "PNG", "HEIF"...), saved with `save`'s options (exif=...)."""
    image = Image.new(mode, size, (200, 30, 30, 255)[: len(mode)])
    out = io.BytesIO()
    image.save(out, format=kind, **save)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    """A file decoded (so a broken one fails here)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def has_no_metadata(image: Image.Image) -> bool:
    """No EXIF and none of the other places a file keeps text about itself."""
    return not image.getexif() and not {"exif", "xmp", "icc_profile", "comment", "Description"} & set(image.info)
