"""Photos on the pages: the resident and staff forms, the staff request page, /media, Open311 and the catalogue."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import time

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from app.factory import create_app
from open311.clients import issue_client
from service_requests.models import RequestEvent, RequestPhoto, ServiceRecord, ServiceRequest
from tests.service_requests.test_photo_processing import GPS_IFD, heic_with_gps, jpeg_with_gps

API = "/open311/v2"
POINT = {"lat": "34.07325", "long": "-118.26690"}  # Echo Park, Council District 13
FORM = {"address": "2111 W Bellevue Ave", "attribute[surface]": "wall", "description": "Tags on the wall"}


@pytest.fixture
def media_dir(tmp_path):
    return tmp_path / "media"


@pytest.fixture
def app(settings, bound_database, media_dir):
    """The app with a media folder of the test's own (the client fixtures use this one)."""
    return create_app(dataclasses.replace(settings, media_dir=media_dir), database=bound_database)


def photo_file(name: str = "IMG_0001.jpg", data: bytes | None = None) -> tuple[io.BytesIO, str]:
    return io.BytesIO(jpeg_with_gps((2000, 1500)) if data is None else data), name


def count(session, model=ServiceRequest) -> int:
    return session.scalar(select(func.count()).select_from(model))


def reference_of(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    found = re.search(r"/(?:status|staff/requests)/([0-9A-Za-z-]+)(?:\?.*)?$", response.headers["Location"])
    assert found is not None, response.headers["Location"]
    return found.group(1)


def request_of(session, reference: str) -> ServiceRequest:
    return session.scalar(
        select(ServiceRequest).where((ServiceRequest.public_ref == reference) | (ServiceRequest.short_ref == reference))
    )


def show_photos_publicly(session, service: str = "graffiti", public: bool = True) -> None:
    session.execute(
        update(ServiceRecord)
        .where(ServiceRecord.city == "la", ServiceRecord.code == service)
        .values(public_photos=public)
    )
    session.commit()


def test_a_resident_files_a_request_with_photos(client, session, admin_client, media_dir):
    page = client.get("/report/graffiti").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert re.search(r'<input id="photos" name="photos" type="file" accept="[^"]*image/\*" multiple', page)
    assert "capture" not in page  # the phone offers its camera and its gallery
    response = client.post("/report/graffiti", data={**FORM, "photos": [photo_file("a.jpg"), photo_file("b.jpg")]})
    found = request_of(session, reference_of(response))
    photos = session.scalars(select(RequestPhoto).where(RequestPhoto.request_id == found.id)).all()
    assert [p.origin for p in photos] == ["resident", "resident"] and {p.added_by for p in photos} == {"public"}
    for p in photos:
        stored = media_dir / p.stored_name
        assert stored.is_file() and stored.stat().st_size == p.bytes and p.content_type == "image/jpeg"
        assert (p.width, p.height) == (1600, 1200)
        assert not Image.open(stored).getexif().get_ifd(GPS_IFD) and b"SecretCam" not in stored.read_bytes()
    assert not [n for n in media_dir.iterdir() if n.name.startswith(".")]  # no temporary file left
    events = session.scalars(select(RequestEvent.kind).where(RequestEvent.request_id == found.id)).all()
    assert "photo_added" in events
    staff_page = admin_client.get(f"/staff/requests/{found.public_ref}").get_data(as_text=True)
    assert all(f"/media/{p.stored_name}" in staff_page for p in photos)
    assert "only staff see them" in staff_page  # graffiti does not show photos publicly by default
    status = client.get(f"/status/{found.public_ref}").get_data(as_text=True)
    assert "/media/" not in status


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([(io.BytesIO(b"just some text, renamed"), "wall.jpg")], "wall.jpg is not a photo this site can read"),
        ([photo_file(f"{i}.jpg") for i in range(4)], "4 photos were chosen but a request takes at most 3"),
        # three photos over the 10 MB limit: 36 MB in all, refused by name, not as a body too large
        (
            [(io.BytesIO(b"\xff\xd8" + bytes(12_000_000)), f"IMG_{i}.JPG") for i in range(3)],
            "IMG_0.JPG is 12.0 MB; photos of at most 10.0 MB are accepted",
        ),
    ],
)
def test_a_bad_photo_is_an_error_on_the_form_and_keeps_what_was_typed(client, session, media_dir, files, message):
    before = count(session)
    typed = {**FORM, "attribute[surface]": "fence", "description": "Big tag, blue paint", "email": "ana@example.org"}
    response = client.post("/report/graffiti", data={**typed, "photos": files})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    assert 'id="error-photos"' in html and "Everything else you typed is kept" in html
    assert "Big tag, blue paint" in html and 'value="ana@example.org"' in html
    assert '<option value="fence" selected' in html  # the address is kept by the form's own work (issue 20, Must 4)
    assert count(session) == before and count(session, RequestPhoto) == 0
    assert not media_dir.exists() or not list(media_dir.iterdir())  # nothing written either


def test_a_resident_sends_an_iphones_heic_photo(client, session, media_dir):
    response = client.post("/report/graffiti", data={**FORM, "photos": [photo_file("IMG_0042.HEIC", heic_with_gps())]})
    found = request_of(session, reference_of(response))
    [photo] = session.scalars(select(RequestPhoto).where(RequestPhoto.request_id == found.id)).all()
    assert photo.content_type == "image/jpeg" and photo.stored_name.endswith(".jpg")
    assert (photo.width, photo.height) == (1200, 1600) and Image.open(media_dir / photo.stored_name).format == "JPEG"


def test_another_error_asks_to_choose_the_photos_again(client, session):
    response = client.post("/report/graffiti", data={**FORM, "attribute[surface]": "roof", "photos": [photo_file()]})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Choose your photos again" in html and count(session, RequestPhoto) == 0


def test_staff_intake_takes_photos(client_as, session):
    staff = client_as("intake")
    response = staff.post("/intake/new/graffiti", data={**FORM, "photos": [photo_file()]})
    found = request_of(session, reference_of(response))
    assert session.scalar(select(RequestPhoto.origin).where(RequestPhoto.request_id == found.id)) == "staff"


def test_staff_add_hide_and_show_photos_recorded_in_the_history(client, client_as, session, media_dir):
    show_photos_publicly(session)
    found = request_of(session, reference_of(client.post("/report/graffiti", data=FORM)))
    staff = client_as("department")  # OCB, graffiti's department
    url = f"/staff/requests/{found.public_ref}"
    assert 'value="photo_add"' in staff.get(url).get_data(as_text=True)
    added = staff.post(url, data={"action": "photo_add", "photos": [photo_file()]})
    assert added.status_code == 303
    photo = session.scalar(select(RequestPhoto).where(RequestPhoto.request_id == found.id))
    assert photo.origin == "staff" and (media_dir / photo.stored_name).is_file()
    media = f"/media/{photo.stored_name}"
    assert media in client.get(f"/status/{found.public_ref}").get_data(as_text=True)  # the service shows photos
    assert client.get(media).status_code == 200

    hidden = staff.post(url, data={"action": "photo_hide", "photo": str(photo.id)})
    assert hidden.status_code == 303
    session.refresh(photo)
    assert photo.hidden and photo.hidden_by and photo.hidden_at
    assert media not in client.get(f"/status/{found.public_ref}").get_data(as_text=True)
    assert client.get(media).status_code == 404  # as if it did not exist
    page = staff.get(url).get_data(as_text=True)
    assert media in page and "Show it again" in page and "Photo hidden" in page  # the history names it
    assert staff.get(media).status_code == 200  # staff who may view the request still see it

    assert staff.post(url, data={"action": "photo_show", "photo": str(photo.id)}).status_code == 303
    kinds = session.scalars(select(RequestEvent.kind).where(RequestEvent.request_id == found.id)).all()
    assert [k for k in kinds if k.startswith("photo_")] == ["photo_added", "photo_hidden", "photo_shown"]
    assert client.get(media).status_code == 200

    bad = staff.post(url, data={"action": "photo_add", "photos": [(io.BytesIO(b"%PDF-1.4"), "scan.pdf")]})
    assert bad.status_code == 400 and "scan.pdf is not a photo" in bad.get_data(as_text=True)
    none = staff.post(url, data={"action": "photo_hide", "photo": "abc"})
    assert none.status_code == 400 and "No photo was named" in none.get_data(as_text=True)
    assert client_as("council").post(url, data={"action": "photo_hide", "photo": str(photo.id)}).status_code in (
        403,
        404,
    )


def test_media_is_served_only_as_the_rules_say(client, client_as, admin_client, session, media_dir):
    response = client.post("/report/graffiti", data={**FORM, "photos": [photo_file()]})
    found = request_of(session, reference_of(response))
    photo = session.scalar(select(RequestPhoto).where(RequestPhoto.request_id == found.id))
    media = f"/media/{photo.stored_name}"
    assert client.get(media).status_code == 404  # the service does not show photos publicly
    assert client_as("department", department_code="BSL").get(media).status_code == 404  # not their request
    served = admin_client.get(media)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff" and "no-store" in served.headers["Cache-Control"]
    assert served.data == (media_dir / photo.stored_name).read_bytes()
    show_photos_publicly(session)
    public = client.get(media)
    assert public.status_code == 200 and public.headers["Cache-Control"] == "public, max-age=600"
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("../../etc/passwd", "x" * 32 + ".jpg", photo.stored_name.replace(".jpg", ".png")):
        assert client.get(f"/media/{name}").status_code == 404


@pytest.fixture
def api_key(session) -> str:
    return issue_client(session, "la", "Photo app", contact="dev@example.org", per_minute=10_000)[1]


def test_open311_takes_a_multipart_media_file(client, session, api_key, media_dir):
    data = {"api_key": api_key, "service_code": "graffiti", **POINT, "attribute[surface]": "wall"}
    response = client.post(
        f"{API}/requests.json", data={**data, "media": photo_file()}, content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    reference = response.get_json()[0]["service_request_id"]
    found = request_of(session, reference)
    photo = session.scalar(select(RequestPhoto).where(RequestPhoto.request_id == found.id))
    assert photo.origin == "open311" and not Image.open(media_dir / photo.stored_name).getexif()
    got = client.get(f"{API}/requests/{reference}.json").get_json()[0]
    assert got["media_url"] is None  # the service does not show photos publicly
    show_photos_publicly(session)
    got = client.get(f"{API}/requests/{reference}.json").get_json()[0]
    assert got["media_url"] == f"http://localhost/media/{photo.stored_name}"
    listed = client.get(f"{API}/requests.xml", query_string={"service_request_id": reference}).get_data(as_text=True)
    assert f"<media_url>http://localhost/media/{photo.stored_name}</media_url>" in listed

    before = count(session)
    bad = client.post(
        f"{API}/requests.xml",
        data={**data, "media": (io.BytesIO(b"<html>not an image</html>"), "photo.jpg")},
        content_type="multipart/form-data",
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "<description>media: photo.jpg is not a photo this site can read" in body
    assert count(session) == before


def test_open311_media_url_keeps_the_external_url_it_was_given(client, session, api_key):
    data = {"api_key": api_key, "service_code": "graffiti", **POINT, "attribute[surface]": "wall"}
    response = client.post(f"{API}/requests.json", data={**data, "media_url": "https://photos.example.org/1.jpg"})
    reference = response.get_json()[0]["service_request_id"]
    show_photos_publicly(session)
    assert client.get(f"{API}/requests/{reference}.json").get_json()[0]["media_url"] == (
        "https://photos.example.org/1.jpg"
    )


def test_the_catalogue_editor_sets_public_photos(admin_client, session):
    page = admin_client.get("/staff/services/graffiti").get_data(as_text=True)
    assert 'name="public_photos"' in page and 'name="public_photos" value="1" >' in page
    entry = {
        "name": "Graffiti Removal",
        "department": "OCB",
        "sla_amount": "48",
        "sla_unit": "hours",
        "contact": "ask",
        "location": "required",
        "active": "1",
        "public_photos": "1",
        "attribute_count": "0",
    }
    assert admin_client.post("/staff/services/graffiti", data=entry).status_code == 303
    assert (
        session.scalar(
            select(ServiceRecord.public_photos).where(ServiceRecord.city == "la", ServiceRecord.code == "graffiti")
        )
        is True
    )
    assert 'name="public_photos" value="1" checked' in admin_client.get("/staff/services/graffiti").get_data(
        as_text=True
    )


def test_check_photos_finds_and_removes_what_an_unfinished_upload_left(app, client, session, media_dir):
    found = request_of(session, reference_of(client.post("/report/graffiti", data={**FORM, "photos": [photo_file()]})))
    kept = session.scalar(select(RequestPhoto).where(RequestPhoto.request_id == found.id))
    media_dir.joinpath("A" * 32 + ".jpg").write_bytes(b"left by a crash before its row was committed")
    media_dir.joinpath(".incoming-abc.part").write_bytes(b"half a photo")
    media_dir.joinpath("B" * 32 + ".jpg").write_bytes(b"an upload being committed right now")
    media_dir.joinpath("notes.txt").write_text("not the store's: never touched")
    an_hour_and_more_ago = time.time() - 3700
    for name in ("A" * 32 + ".jpg", ".incoming-abc.part"):
        os.utime(media_dir / name, (an_hour_and_more_ago, an_hour_and_more_ago))
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["requests", "check-photos"])
    assert listed.exit_code == 0, listed.output
    assert "3 photo file(s)" in listed.output and "2 file(s) of" in listed.output and "--remove" in listed.output
    assert "Every photo's file is present." in listed.output
    assert (media_dir / ("A" * 32 + ".jpg")).exists()  # listed, not removed

    removed = runner.invoke(args=["requests", "check-photos", "--remove"])
    assert removed.exit_code == 0 and "2 removed" in removed.output
    left = sorted(p.name for p in media_dir.iterdir())
    assert left == sorted([kept.stored_name, "B" * 32 + ".jpg", "notes.txt"])  # young and foreign files stay

    (media_dir / kept.stored_name).unlink()
    missing = runner.invoke(args=["requests", "check-photos", "--remove"])
    assert missing.exit_code == 1 and f"1 photo(s) name a file that is missing: {kept.stored_name}" in missing.output
    assert "GEO311_MEDIA_DIR" in missing.output


def test_a_body_beyond_anything_allowed_says_how_to_keep_what_was_typed(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = client.post("/report/graffiti", data={**FORM, "photos": [photo_file("big.jpg", bytes(2_000_000))]})
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "larger than the 1 MB a request may be" in html and "your browser keeps what you typed" in html
