"""Photos of requests: checking and cleaning an upload, attaching it, hiding it, who may see it.

An upload is read by Pillow, never trusted by its name or declared type: JPEG, PNG and WebP
are accepted, and an iPhone's HEIC photos (HEIF, read through the pillow-heif plugin and stored
as JPEG, which every browser shows; one that cannot be decoded is refused with what to do
instead). Its size in bytes and in pixels is limited before it is decoded (a small file
can hold a huge image: a decompression bomb). It is turned upright from its EXIF
orientation, scaled down to the city's longest side and encoded afresh without any of its
metadata, so that the place it was taken (GPS), the camera and its owner are never stored.

Attaching writes each file to the media folder (:mod:`service_requests.photo_store`) before
its row is added; the caller's commit stores the rows. A photo is shown publicly only when
its service allows photos publicly (``public_photos`` in the catalogue) and staff have not
hidden it; staff who may view the request see every photo. :func:`check_media` compares the
folder with the rows: files a crash left unnamed, and rows whose file has gone.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.city import PhotoSettings
from core.errors import UserError
from core.i18n import N_, Sentence
from service_requests.models import RequestEvent, RequestPhoto, ServiceRecord, ServiceRequest
from service_requests.photo_store import MediaStore, StoredFile

#: What is stored, by Pillow's format name: (content type, extension).
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
#: What is accepted besides and stored as one of FORMATS: a HEIC photo (Pillow's "HEIF") as a JPEG.
STORED_AS = {"HEIF": "JPEG"}
# Pillow opens HEIF files (HEIC photos) from now on; libheif applies their rotation as it decodes.
register_heif_opener()
ORIGINS = ("resident", "staff", "open311")
_JPEG_QUALITY = 85


class PhotoError(UserError):
    """A photo that cannot be accepted; the message names it and says what to do."""


@dataclass(frozen=True)
class Upload:
    """A file as sent: the name the sender gave it (for messages only) and its bytes (only the beginning
    of one larger than the limit, whose whole ``size`` is then given)."""

    filename: str
    data: bytes
    size: int | None = None


@dataclass(frozen=True)
class CleanPhoto:
    """An upload re-encoded: upright, scaled down, without metadata; ready to store."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


def _is_heic(data: bytes) -> bool:
    """An ISO media file of the HEIF family (an iPhone's HEIC photo, AVIF): ``ftyp`` then its brand."""
    return data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")


def _heic_refused(name: str) -> Sentence:
    """Why a HEIC photo that could not be decoded is refused, and how to send it as a JPEG or PNG instead."""
    return Sentence(
        N_(
            "%(name)s is a HEIC photo that could not be read; send it as JPEG or PNG (on an iPhone: Settings, "
            "Camera, Formats, Most Compatible; or share or e-mail the photo, which converts it)."
        ),
        name=name,
    )


def clean_photo(upload: Upload, limits: PhotoSettings) -> CleanPhoto:
    """Check ``upload`` by its content and re-encode it; raise :class:`PhotoError` saying why it is refused."""
    name = (upload.filename or "the photo").rsplit("/", 1)[-1][:80]
    if not upload.data:
        raise PhotoError(Sentence(N_("%(name)s is empty; choose the photo again."), name=name))
    size = max(len(upload.data), upload.size or 0)
    if size > limits.max_bytes:
        raise PhotoError(
            Sentence(
                N_(
                    "%(name)s is %(size)s; photos of at most %(most)s are accepted. Send a smaller one "
                    "(a phone's share or e-mail option usually offers a smaller size)."
                ),
                name=name,
                size=_megabytes(size),
                most=_megabytes(limits.max_bytes),
            )
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(upload.data))
            if image.format not in FORMATS and image.format not in STORED_AS:
                raise PhotoError(
                    Sentence(
                        N_("%(name)s is a %(format)s image; send a JPEG, PNG or WebP photo."),
                        name=name,
                        format=image.format or "?",
                    )
                ) from None
            width, height = image.size
            if width * height > limits.max_pixels:
                raise PhotoError(
                    Sentence(
                        N_(
                            "%(name)s is %(width)s x %(height)s pixels; at most %(most)s pixels are accepted. Send a smaller photo."
                        ),
                        name=name,
                        width=f"{width:,}",
                        height=f"{height:,}",
                        most=f"{limits.max_pixels:,}",
                    )
                )
            image.load()
    except PhotoError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError) and _is_heic(upload.data):
            raise PhotoError(_heic_refused(name)) from None
        if isinstance(exc, UnidentifiedImageError):
            raise PhotoError(
                Sentence(N_("%(name)s is not a photo this site can read; send a JPEG, PNG or WebP image."), name=name)
            ) from None
        raise PhotoError(
            Sentence(
                N_("%(name)s has more than %(most)s pixels; send a smaller photo."),
                name=name,
                most=f"{limits.max_pixels:,}",
            )
        ) from None
    except (OSError, SyntaxError, ValueError):
        if _is_heic(upload.data):
            raise PhotoError(_heic_refused(name)) from None
        raise PhotoError(
            Sentence(N_("%(name)s is damaged or incomplete; choose the photo again or send another."), name=name)
        ) from None
    try:
        return _reencode(image, STORED_AS.get(image.format or "", image.format or "JPEG"), limits.longest_side)
    except (OSError, ValueError):  # a pixel format with no RGB conversion, say
        raise PhotoError(
            Sentence(N_("%(name)s could not be converted; send it as an ordinary JPEG photo."), name=name)
        ) from None


def _reencode(image: Image.Image, image_format: str, longest_side: int) -> CleanPhoto:
    """Upright, scaled down, encoded afresh from the pixels alone (no EXIF, XMP, ICC or text chunks)."""
    upright = ImageOps.exif_transpose(image) or image
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    if image_format == "JPEG" or not has_alpha:
        pixels = upright.convert("L" if upright.mode in ("L", "1") else "RGB")
    else:
        pixels = upright.convert("RGBA")
    pixels.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    # A new image of the pixels only: nothing of the original's info (EXIF, XMP, ICC, comments) can follow.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if image_format == "JPEG":
        clean.save(out, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    elif image_format == "PNG":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=_JPEG_QUALITY)
    content_type, extension = FORMATS[image_format]
    return CleanPhoto(out.getvalue(), content_type, extension, clean.width, clean.height)


def clean_photos(uploads: Sequence[Upload], limits: PhotoSettings, already: int = 0) -> list[CleanPhoto]:
    """Every upload checked and re-encoded, within the city's count per request (``already`` attached)."""
    if not uploads:
        return []
    if limits.max_per_request == 0:
        raise PhotoError(N_("This city does not take photos with requests; remove the photo and send the request."))
    if already + len(uploads) > limits.max_per_request:
        room = limits.max_per_request - already
        if room <= 0:
            raise PhotoError(
                Sentence(
                    N_("This request already has the most photos it can take (%(most)s)."), most=limits.max_per_request
                )
            )
        values = {"chosen": len(uploads), "most": limits.max_per_request, "room": room, "already": already}
        raise PhotoError(
            Sentence(
                N_(
                    "%(chosen)s photos were chosen but a request takes at most %(most)s (%(already)s already attached): choose at most %(room)s."
                ),
                **values,
            )
            if already
            else Sentence(
                N_("%(chosen)s photos were chosen but a request takes at most %(most)s: choose at most %(room)s."),
                **values,
            )
        )
    return [clean_photo(upload, limits) for upload in uploads]


def store_photos(
    session: Session,
    store: MediaStore,
    request: ServiceRequest,
    photos: Sequence[CleanPhoto],
    actor: str,
    origin: str,
) -> list[RequestPhoto]:
    """Write each photo's file, then add its row and a history event; the caller commits.

    If the caller's commit fails, :func:`discard_files` removes the files no row names.
    """
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}")
    added = []
    for photo in photos:
        name = store.write(photo.data, photo.extension)
        row = RequestPhoto(
            request_id=request.id,
            stored_name=name,
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            bytes=len(photo.data),
            added_by=actor,
            origin=origin,
            hidden=False,
        )
        session.add(row)
        added.append(row)
    if added:
        session.flush()
        session.add(
            RequestEvent(
                request_id=request.id,
                actor=actor,
                kind="photo_added",
                from_status=request.status,
                note=f"{len(added)} photo{'s' if len(added) != 1 else ''} added.",
                public=False,
                data={"photos": [p.id for p in added], "origin": origin},
            )
        )
    return added


def discard_files(store: MediaStore, photos: Sequence[RequestPhoto]) -> None:
    """Remove the files of photos whose rows were not committed."""
    for photo in photos:
        store.remove(photo.stored_name)


def add_photos(
    session: Session,
    store: MediaStore,
    request: ServiceRequest,
    uploads: Sequence[Upload],
    limits: PhotoSettings,
    actor: str,
) -> list[RequestPhoto]:
    """Staff attach photos to a request (nothing is stored if any is refused); commits."""
    if not uploads:
        raise PhotoError(N_("Choose one or more photos to add."))
    photos = clean_photos(uploads, limits, already=len(photos_of(session, request)))
    added = store_photos(session, store, request, photos, actor, "staff")
    request.updated_at = datetime.now(UTC)
    try:
        session.commit()
    except BaseException:
        session.rollback()
        discard_files(store, added)
        raise
    return added


def set_hidden(session: Session, request: ServiceRequest, photo_id: int, actor: str, hidden: bool) -> RequestPhoto:
    """Hide a photo from the public (or show it again), recorded in the request's history; commits."""
    photo = session.scalar(
        select(RequestPhoto).where(RequestPhoto.id == photo_id, RequestPhoto.request_id == request.id)
    )
    if photo is None:
        raise PhotoError(N_("That photo is not one of this request's; reload the page."))
    if photo.hidden == hidden:
        return photo
    now = datetime.now(UTC)
    photo.hidden = hidden
    photo.hidden_by, photo.hidden_at = (actor, now) if hidden else (None, None)
    session.add(
        RequestEvent(
            request_id=request.id,
            actor=actor,
            kind="photo_hidden" if hidden else "photo_shown",
            from_status=request.status,
            note="A photo was hidden from the public." if hidden else "A hidden photo was shown again.",
            public=False,
            data={"photo": photo.id},
        )
    )
    request.updated_at = now
    session.commit()
    return photo


def photos_of(session: Session, request: ServiceRequest) -> list[RequestPhoto]:
    """Every photo of the request, in the order they were added."""
    return list(
        session.scalars(select(RequestPhoto).where(RequestPhoto.request_id == request.id).order_by(RequestPhoto.id))
    )


def service_shows_photos(session: Session, request: ServiceRequest) -> bool:
    """Whether the request's service shows its photos publicly (``public_photos`` in the catalogue)."""
    return bool(
        session.scalar(
            select(ServiceRecord.public_photos).where(
                ServiceRecord.city == request.city, ServiceRecord.code == request.service_code
            )
        )
    )


def public_photos(session: Session, request: ServiceRequest) -> list[RequestPhoto]:
    """The photos anyone may see: none unless the service shows photos, and never a hidden one."""
    if not service_shows_photos(session, request):
        return []
    return [p for p in photos_of(session, request) if not p.hidden]


def find_photo(session: Session, city: str, stored_name: str) -> tuple[RequestPhoto, ServiceRequest] | None:
    """The city's photo of that stored name and its request, or None."""
    row = session.execute(
        select(RequestPhoto, ServiceRequest)
        .join(ServiceRequest, ServiceRequest.id == RequestPhoto.request_id)
        .where(RequestPhoto.stored_name == stored_name, ServiceRequest.city == city)
    ).first()
    return (row[0], row[1]) if row else None


def is_public(session: Session, photo: RequestPhoto, request: ServiceRequest) -> bool:
    """Whether anyone, signed in or not, may see ``photo``."""
    return not photo.hidden and service_shows_photos(session, request)


#: How long a file no row names may be in the media folder before it counts as left behind:
#: a photo being attached is written a moment before its row is committed.
ORPHAN_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class MediaCheck:
    """The media folder beside the photo rows of every city that shares it."""

    files: int  # photo files in the folder
    orphans: list[StoredFile]  # files no row names (or unfinished writes), older than ORPHAN_AGE
    missing: list[str]  # stored names of rows whose file is not in the folder
    removed: int  # orphans deleted

    def summary(self) -> str:
        """One paragraph for the command line."""
        orphan_bytes = sum(f.bytes for f in self.orphans)
        lines = [f"{self.files} photo file(s) in the media folder."]
        if self.orphans:
            done = f"; {self.removed} removed" if self.removed else " (run again with --remove to delete them)"
            lines.append(
                f"{len(self.orphans)} file(s) of {_megabytes(orphan_bytes)} that no photo names, left by an upload "
                f"that did not finish{done}."
            )
        else:
            lines.append("No file is left over from an unfinished upload.")
        if self.missing:
            shown = ", ".join(self.missing[:5]) + (" ..." if len(self.missing) > 5 else "")
            lines.append(
                f"{len(self.missing)} photo(s) name a file that is missing: {shown}. Restore the media folder "
                "from its backup (GEO311_MEDIA_DIR); the pages answer 404 for these photos until then."
            )
        else:
            lines.append("Every photo's file is present.")
        return "\n".join(lines)


def check_media(session: Session, store: MediaStore, remove: bool = False, now: datetime | None = None) -> MediaCheck:
    """Compare the media folder with the photo rows; with ``remove``, delete the files left behind.

    A file counts as left behind when no row names it and it is older than :data:`ORPHAN_AGE`
    (younger ones may belong to an upload being committed). Files are never removed for a
    missing row's sake: a row whose file is missing is reported, for the folder to be restored.
    """
    now = now or datetime.now(UTC)
    named = set(session.scalars(select(RequestPhoto.stored_name)))
    files = list(store.files())
    present = {f.name for f in files if f.complete}
    orphans = [f for f in files if f.name not in named and now - f.modified_at > ORPHAN_AGE]
    if remove:
        for orphan in orphans:
            store.delete(orphan)
    return MediaCheck(
        files=len(present),
        orphans=sorted(orphans, key=lambda f: f.modified_at),
        missing=sorted(named - present),
        removed=len(orphans) if remove else 0,
    )
