"""Photos from the web chat: real JPEG, PNG and HEIC files made with Pillow and pillow-heif, checked and stripped."""

from __future__ import annotations

import zlib

import pytest
from PIL import ExifTags, Image

from bot.channels.photo_checks import (
    MAX_SIDE,
    NOT_A_PHOTO,
    TOO_LARGE,
    PhotoRefused,
    check_photo,
    checked_photo,
    exif_position,
)
from tests.support.photos import GPS, RIVERTON, camera_exif, has_no_metadata, opened, photo_bytes

LIMIT = 10 * 1024 * 1024


def test_a_jpeg_with_gps_gives_its_position_and_loses_every_tag() -> None:
    photo = check_photo(photo_bytes("JPEG", exif=camera_exif(GPS)), LIMIT)
    assert photo.position == RIVERTON
    assert photo.content_type == "image/jpeg" and (photo.width, photo.height) == (64, 48)
    kept = opened(photo.data)
    assert kept.format == "JPEG"
    assert has_no_metadata(kept)
    assert b"Pixelphone" not in photo.data


def test_south_and_east_are_signed_and_a_missing_or_empty_fix_is_no_position() -> None:
    south_east = {**GPS, ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLongitudeRef: "E"}
    assert check_photo(photo_bytes("JPEG", exif=camera_exif(south_east)), LIMIT).position == (-41.425, 90.62)
    assert check_photo(photo_bytes("JPEG", exif=camera_exif()), LIMIT).position is None
    no_fix = {**GPS, ExifTags.GPS.GPSLatitude: (0.0, 0.0, 0.0), ExifTags.GPS.GPSLongitude: (0.0, 0.0, 0.0)}
    assert check_photo(photo_bytes("JPEG", exif=camera_exif(no_fix)), LIMIT).position is None
    off_earth = {**GPS, ExifTags.GPS.GPSLatitude: (95.0, 0.0, 0.0)}
    assert check_photo(photo_bytes("JPEG", exif=camera_exif(off_earth)), LIMIT).position is None
    assert exif_position(Image.Exif()) is None


def test_the_cameras_orientation_is_applied_before_its_exif_goes() -> None:
    sideways = photo_bytes("JPEG", size=(64, 48), exif=camera_exif(orientation=6))  # "rotate 90° clockwise"
    photo = check_photo(sideways, LIMIT)
    assert (photo.width, photo.height) == (48, 64)
    assert has_no_metadata(opened(photo.data))


def test_a_png_stays_a_png_with_its_transparency_and_without_its_text_chunks() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Description", "taken at 12 Elm Street by Rita Moreno")
    data = photo_bytes("PNG", mode="RGBA", pnginfo=info)
    assert b"Rita Moreno" in data
    photo = check_photo(data, LIMIT)
    assert photo.content_type == "image/png" and photo.position is None
    kept = opened(photo.data)
    assert kept.format == "PNG" and kept.mode == "RGBA"
    assert has_no_metadata(kept)
    assert b"Rita Moreno" not in photo.data


def test_a_heic_from_a_phone_becomes_a_jpeg_and_gives_its_position() -> None:
    data = photo_bytes("HEIF", exif=camera_exif(GPS).tobytes())
    assert data[4:12] == b"ftypheic"
    photo = check_photo(data, LIMIT)
    assert photo.content_type == "image/jpeg" and photo.position == RIVERTON
    kept = opened(photo.data)
    assert kept.format == "JPEG"
    assert has_no_metadata(kept)


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])  # a JPEG is decoded at a reduced scale first
def test_a_large_photo_is_scaled_down_to_the_longest_side_kept(kind: str) -> None:
    photo = check_photo(photo_bytes(kind, size=(MAX_SIDE * 3, MAX_SIDE * 2)), LIMIT)
    assert (photo.width, photo.height) == (MAX_SIDE, round(MAX_SIDE * 2 / 3))


def test_bytes_hidden_after_the_image_do_not_survive() -> None:
    data = photo_bytes("JPEG") + b"<?php system($_GET['c']); ?>"
    assert b"<?php" not in check_photo(data, LIMIT).data


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        photo_bytes("GIF"),  # an image, but not a format a photo comes in
        photo_bytes("BMP"),
        photo_bytes("JPEG")[:200],  # cut off half-way
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    ],
    ids=["pdf", "svg", "gif-header", "gif", "bmp", "truncated-jpeg", "broken-png"],
)
def test_anything_but_a_jpeg_png_or_heic_photo_is_refused_as_not_a_photo(data: bytes) -> None:
    with pytest.raises(PhotoRefused) as refused:
        check_photo(data, LIMIT)
    assert (refused.value.reason, refused.value.status) == (NOT_A_PHOTO, 415)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(PhotoRefused) as refused:
        check_photo(b"", LIMIT)
    assert refused.value.status == 400


def test_a_file_over_the_limit_is_refused_before_it_is_decoded() -> None:
    data = photo_bytes("JPEG")
    with pytest.raises(PhotoRefused) as refused:
        check_photo(data, len(data) - 1)
    assert (refused.value.reason, refused.value.status) == (TOO_LARGE, 413)
    assert check_photo(data, len(data)).content_type == "image/jpeg"


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims a huge picture (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_a_small_file_claiming_too_many_pixels_is_refused_as_too_large() -> None:
    with pytest.raises(PhotoRefused) as refused:
        check_photo(png_claiming(20_000, 20_000), LIMIT)
    assert (refused.value.reason, refused.value.status) == (TOO_LARGE, 413)


async def test_checking_runs_off_the_event_loop_with_the_same_result() -> None:
    photo = await checked_photo(photo_bytes("JPEG", exif=camera_exif(GPS)), LIMIT)
    assert photo.position == RIVERTON
