"""Photos of requests, served from the media folder, and reading photo uploads from a request.

``/media/<name>`` answers a photo to anyone when it is public (its service shows photos and
staff have not hidden it), and otherwise only to staff who may view its request: everyone
else gets the 404 of a photo that does not exist.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Blueprint, abort, request, send_file
from flask_babel import gettext

from app.web import db_session, runtime
from app.web.access import allowed, public
from service_requests.photo_store import MediaStore
from service_requests.photos import Upload, find_photo, is_public

bp = Blueprint("media", __name__)

#: How long a browser or a shared cache may keep a public photo (hiding it takes effect within this time).
PUBLIC_MAX_AGE = 600


def media_store() -> MediaStore:
    """The deployment's media folder (``GEO311_MEDIA_DIR``)."""
    return MediaStore(runtime().settings.media_dir)


def uploads(field: str) -> tuple[Upload, ...]:
    """The files of the form field ``field`` (the inputs left empty are skipped), each read up to one byte
    past the city's limit: enough to refuse one too large without holding more of it."""
    limit = runtime().city.photos.max_bytes + 1
    found = []
    for file in request.files.getlist(field):
        if not file or not file.filename:
            continue
        data = file.stream.read(limit)
        found.append(Upload(file.filename, data, size=_whole_size(file.stream, len(data))))
    return tuple(found)


def _whole_size(stream: IO[bytes], read: int) -> int:
    """The size of an uploaded file of which ``read`` bytes were read (Werkzeug spools uploads: seekable)."""
    try:
        return max(read, stream.seek(0, io.SEEK_END))
    except (OSError, ValueError):
        return read


@bp.get("/media/<name>")
@public  # what each photo needs is checked here: public, or staff who may view its request
def photo(name: str):
    """A photo: public ones to anyone, the others to staff who may view the request; 404 to everyone else."""
    store = media_store()
    path = store.path(name)
    found = find_photo(db_session(), runtime().city.key, name) if path is not None else None
    if path is None or found is None:
        abort(404, gettext("There is no such photo."))
    photo, service_request = found
    shown_publicly = is_public(db_session(), photo, service_request)
    if not shown_publicly and not allowed("requests.view", service_request):
        abort(404, gettext("There is no such photo."))
    if not path.is_file():
        abort(404, gettext("That photo's file is missing from the media folder."))
    response = send_file(path, mimetype=photo.content_type, max_age=PUBLIC_MAX_AGE if shown_publicly else 0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}" if shown_publicly else "private, no-store"
    response.headers["Vary"] = "Cookie"
    return response
