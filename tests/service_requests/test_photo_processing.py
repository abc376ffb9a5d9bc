"""Checking and cleaning photo uploads (no database): by content, limited, upright, scaled, without metadata."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from core.city import PhotoSettings, load_city
from core.errors import ConfigError
from core.i18n import translations
from service_requests.photo_store import MediaStore
from service_requests.photos import PhotoError, Upload, clean_photo, clean_photos

LIMITS = PhotoSettings()
GPS_IFD = 0x8825
MAKE, MODEL, ORIENTATION = 0x010F, 0x0110, 0x0112


def jpeg_with_gps(size: tuple[int, int] = (4000, 3000), orientation: int = 1) -> bytes:
    """A camera-like JPEG: maker, model, orientation and a GPS position in its EXIF."""
    image = Image.new("RGB", size, (180, 40, 40))
    image.paste((20, 20, 200), (0, 0, size[0] // 2, size[1] // 4))  # a blue band at the top left, to see rotation
    exif = Image.Exif()
    exif[MAKE] = "SecretCam"
    exif[MODEL] = "Model-GPS-9000"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (34.0, 4.0, 23.0), 3: "W", 4: (118.0, 15.0, 37.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"owner: Ana Lopez")
    return out.getvalue()


def heic_with_gps(size: tuple[int, int] = (4000, 3000), orientation: int = 6) -> bytes:
    """An iPhone-like HEIC photo (encoded by pillow-heif): the camera JPEG's pixels and EXIF, GPS included."""
    camera = Image.open(io.BytesIO(jpeg_with_gps(size, orientation)))
    out = io.BytesIO()
    camera.save(out, "HEIF", exif=camera.getexif().tobytes(), quality=60)
    return out.getvalue()


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def test_gps_and_camera_data_are_never_kept():
    original = jpeg_with_gps()
    assert b"SecretCam" in original and Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    clean = clean_photo(Upload("IMG_0001.jpg", original), LIMITS)
    assert clean.content_type == "image/jpeg" and clean.extension == "jpg"
    stored = Image.open(io.BytesIO(clean.data))
    assert stored.format == "JPEG"
    assert not stored.getexif() and not stored.getexif().get_ifd(GPS_IFD)
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(stored.info)
    for secret in (b"SecretCam", b"Model-GPS-9000", b"Ana Lopez", b"Exif"):
        assert secret not in clean.data


def test_the_photo_is_turned_upright_then_scaled_to_the_longest_side():
    rotated = clean_photo(Upload("side.jpg", jpeg_with_gps((4000, 3000), orientation=6)), LIMITS)
    assert (rotated.width, rotated.height) == (1200, 1600)  # orientation 6: turned a quarter, then scaled
    small = clean_photo(Upload("small.png", png((800, 600))), LIMITS)
    assert (small.width, small.height) == (800, 600)  # never enlarged
    limited = clean_photo(Upload("big.png", png((3000, 1000))), PhotoSettings(longest_side=1000))
    assert (limited.width, limited.height) == (1000, 333)


def test_formats_are_kept_and_transparency_survives():
    clean = clean_photo(Upload("logo.png", png((50, 40), "RGBA")), LIMITS)
    assert clean.content_type == "image/png" and Image.open(io.BytesIO(clean.data)).mode == "RGBA"
    out = io.BytesIO()
    Image.new("RGB", (60, 60)).save(out, "WEBP")
    assert clean_photo(Upload("x.webp", out.getvalue()), LIMITS).content_type == "image/webp"


def test_an_iphones_heic_photo_is_kept_as_an_upright_jpeg_without_its_metadata():
    original = heic_with_gps((4000, 3000), orientation=6)
    assert original[4:12] == b"ftypheic" and b"SecretCam" in original
    clean = clean_photo(Upload("IMG_0042.HEIC", original), LIMITS)
    assert (clean.content_type, clean.extension) == ("image/jpeg", "jpg")  # every browser shows it
    assert (clean.width, clean.height) == (1200, 1600)  # turned as the camera held it, then scaled
    stored = Image.open(io.BytesIO(clean.data))
    assert stored.format == "JPEG" and not stored.getexif() and not {"exif", "xmp", "icc_profile"} & set(stored.info)
    for secret in (b"SecretCam", b"Model-GPS-9000", b"Exif"):
        assert secret not in clean.data
    red, blue = stored.getpixel((clean.width - 20, clean.height - 20)), stored.getpixel((clean.width - 20, 20))
    assert red[0] > 150 > red[2] and blue[2] > 150 > blue[0]  # the blue band, top left as shot, is now top right


def test_a_heic_photo_that_cannot_be_read_says_to_send_a_jpeg_or_png_in_the_pages_language():
    fake = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
    with pytest.raises(PhotoError, match="HEIC photo that could not be read; send it as JPEG or PNG") as refused:
        clean_photo(Upload("IMG_0043.HEIC", fake), LIMITS)
    spanish = refused.value.args[0].in_words(translations("es").gettext)
    assert spanish.startswith("IMG_0043.HEIC es una foto HEIC que no se pudo leer; envíela en JPEG o PNG")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"Dear city, this is not a photo.\n", "is not a photo this site can read"),
        (b"", "is empty"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200), "HEIC photo"),
    ],
)
def test_a_file_that_is_not_an_accepted_image_is_refused_by_its_content(data, expected):
    with pytest.raises(PhotoError, match=expected):
        clean_photo(Upload("pothole.jpg", data), LIMITS)  # the name says .jpg: the content decides


def test_a_gif_or_a_damaged_jpeg_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(PhotoError, match="GIF image; send a JPEG, PNG or WebP"):
        clean_photo(Upload("a.gif", out.getvalue()), LIMITS)
    with pytest.raises(PhotoError, match="damaged or incomplete"):
        clean_photo(Upload("cut.jpg", jpeg_with_gps((400, 300))[:600]), LIMITS)


def test_a_huge_pixel_image_is_refused_before_it_is_decoded():
    bomb = png((8000, 8000), "1")  # a few kB of file, 64 million pixels
    assert len(bomb) < 100_000
    with pytest.raises(PhotoError, match="8,000 x 8,000 pixels; at most 40,000,000 pixels"):
        clean_photo(Upload("bomb.png", bomb), LIMITS)
    beyond_pillow = png((12000, 12000), "1")  # past Pillow's own bomb guard too
    with pytest.raises(PhotoError, match="pixels"):
        clean_photo(Upload("bomb2.png", beyond_pillow), LIMITS)


def test_too_large_a_file_and_too_many_files_are_refused():
    with pytest.raises(PhotoError, match=r"is 0.2 MB; photos of at most 0.1 MB"):
        clean_photo(Upload("big.jpg", jpeg_with_gps()), PhotoSettings(max_bytes=100_000))
    three = [Upload(f"{i}.png", png((20, 20))) for i in range(3)]
    with pytest.raises(PhotoError, match="3 photos were chosen but a request takes at most 2: choose at most 2"):
        clean_photos(three, PhotoSettings(max_per_request=2))
    with pytest.raises(PhotoError, match=r"\(1 already attached\): choose at most 1"):
        clean_photos(three[:2], PhotoSettings(max_per_request=2), already=1)
    with pytest.raises(PhotoError, match="does not take photos"):
        clean_photos(three[:1], PhotoSettings(max_per_request=0))
    assert len(clean_photos(three, LIMITS)) == 3


def test_the_store_writes_whole_files_under_unguessable_names(tmp_path):
    store = MediaStore(tmp_path / "media")
    first, second = store.write(b"one", "jpg"), store.write(b"two", "jpg")
    assert first != second and len(first) == 36 and first.endswith(".jpg")
    assert (tmp_path / "media" / first).read_bytes() == b"one"
    assert sorted(os.listdir(tmp_path / "media")) == sorted([first, second])  # no temporary file left
    assert store.path("../../etc/passwd") is None and store.path(first.replace(".jpg", ".html")) is None
    store.remove(first)
    assert not (tmp_path / "media" / first).exists()


def _city_file_with(tmp_path: Path, settings, extra: str) -> Path:
    cities = tmp_path / "cities"
    cities.mkdir()
    text = (settings.cities_dir / "gardena.toml").read_text(encoding="utf-8")
    (cities / "gardena.toml").write_text(text + "\n" + extra, encoding="utf-8")
    return cities


def test_the_city_file_sets_the_limits_and_refuses_unknown_keys(tmp_path, settings):
    """With a fixture city (Gardena): defaults without [photos], its keys when given, typos and bad values refused."""
    assert load_city("gardena", settings.cities_dir, settings.data_dir).photos == PhotoSettings()
    cities = _city_file_with(tmp_path, settings, "[photos]\nmax_per_request = 1\nlongest_side = 800\n")
    city = load_city("gardena", cities, settings.data_dir)
    assert city.photos == PhotoSettings(max_per_request=1, longest_side=800)
    shutil.rmtree(cities)
    cities = _city_file_with(tmp_path, settings, "[photos]\nmax_per_requests = 1\n")
    with pytest.raises(
        ConfigError, match=r"\[photos\] does not know 'max_per_requests': did you mean 'max_per_request'"
    ):
        load_city("gardena", cities, settings.data_dir)
    shutil.rmtree(cities)
    cities = _city_file_with(tmp_path, settings, '[photos]\nmax_bytes = "10 MB"\n')
    with pytest.raises(ConfigError, match="max_bytes must be a whole number from 10,000 to 50,000,000"):
        load_city("gardena", cities, settings.data_dir)
