"""gzip of the app's answers, by Flask-Compress, for clients that send ``Accept-Encoding: gzip``.

Only gzip (what every HTTP client decodes), only answers of at least :data:`MIN_SIZE`
bytes, only 2xx answers (never a 304), only text types (HTML, JSON, XML, CSS, scripts,
SVG), and never a streamed answer (files sent by ``send_file``: the vendor files, photos,
tiles keep their own handling). Every answer gets ``Vary: Accept-Encoding``.

The ETag of a gzipped answer (a hash of the plain bytes, e.g. Open311's) becomes
``"<tag>:gzip"``, since the bytes differ; Flask-Compress evaluates the conditional request
again on the compressed answer, so a client revalidating with that tag is answered 304 too.
"""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress

#: Smaller answers are sent as they are: gzip would save next to nothing (or add bytes).
MIN_SIZE = 500


def install(app: Flask) -> None:
    """Compress ``app``'s answers (register after the blueprints: it runs after their own after_request)."""
    app.config.update(
        COMPRESS_ALGORITHM=["gzip"],
        COMPRESS_MIN_SIZE=MIN_SIZE,
        COMPRESS_STREAMS=False,
        COMPRESS_LEVEL=6,
    )
    Compress(app)
