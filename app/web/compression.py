"""gzip of the app's answers, by Flask-Compress, for clients that send ``Accept-Encoding: gzip``.

Only gzip (what every HTTP client decodes), only answers of at least :data:`MIN_SIZE`
bytes, only 2xx answers (never a 304), only the data and asset types of :data:`MIMETYPES`
(JSON, GeoJSON, XML, CSV, CSS, scripts, SVG), and never a streamed answer (files sent by
``send_file``: the vendor files, photos, tiles keep their own handling). Every answer
but a staff user's gets ``Vary: Accept-Encoding``.

Not compressed, against BREACH (an attacker who can make a victim's browser send requests
that echo chosen text learns a secret in the same answer from the compressed sizes): HTML
pages, which carry the CSRF token in their forms, and anything answered to a signed-in
staff user (personal data).

The ETag of a gzipped answer (a hash of the plain bytes, e.g. Open311's) becomes
``"<tag>:gzip"``, since the bytes differ; Flask-Compress evaluates the conditional request
again on the compressed answer, so a client revalidating with that tag is answered 304 too
(a view that sets its own ETag can spare the gzipping of that bodiless answer:
:func:`revalidated_gzip_tag`).
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_compress import Compress

from app.web.access import current_user

#: Smaller answers are sent as they are: gzip would save next to nothing (or add bytes).
MIN_SIZE = 500

#: What Flask-Compress appends to the (strong) ETag of an answer it gzips.
GZIP_TAG_SUFFIX = ":gzip"

#: What is compressed: public data and static assets, never HTML (see the module's docstring).
MIMETYPES = [
    "application/json",
    "application/geo+json",
    "application/xml",
    "text/xml",
    "text/csv",
    "text/plain",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/manifest+json",
    "image/svg+xml",
]


def install(app: Flask) -> None:
    """Compress ``app``'s answers (its after_request runs after the blueprints' own, which set the ETags)."""
    app.config.update(
        COMPRESS_ALGORITHM=["gzip"],
        COMPRESS_MIN_SIZE=MIN_SIZE,
        COMPRESS_MIMETYPES=MIMETYPES,
        COMPRESS_STREAMS=False,
        COMPRESS_LEVEL=6,
        COMPRESS_REGISTER=False,  # registered below, behind the staff check
    )
    compress = Compress(app)

    @app.after_request
    def gzip_answer(response: Response) -> Response:
        if current_user() is not None:
            return response
        return compress.after_request(response)


def revalidated_gzip_tag(response: Response) -> None:
    """Give ``response`` the ETag of its gzipped form when that is the tag the client revalidates
    with (``If-None-Match``, not ``*``): its conditional check then answers 304 at once, without
    gzipping the bytes that a 304 does not send."""
    tag, weak = response.get_etag()
    held = request.if_none_match
    if tag and not weak and not held.star_tag and held.contains_weak(tag + GZIP_TAG_SUFFIX):
        response.set_etag(tag + GZIP_TAG_SUFFIX)
