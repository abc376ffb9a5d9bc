"""The media folder: photo files under random names, each written whole before anything names it.

A file is written to a temporary name in the same folder, flushed and synced, then renamed
to its final name (a rename within one file system is atomic) and the folder synced: after
:meth:`MediaStore.write` returns, the file survives a crash, so the database row stored next
never names a missing file. A crash between the two leaves a file no row names (or a
temporary ``.incoming-*.part`` file): harmless, and found and removed by
:func:`service_requests.photos.check_media` (``flask requests check-photos``).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

#: A stored name: 32 random URL-safe characters (192 bits) and the type's extension.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}\.(?:jpg|png|webp)")
_INCOMING = re.compile(r"\.incoming-.*\.part")


@dataclass(frozen=True)
class StoredFile:
    """A file in the media folder: its name, size and when it was last written."""

    name: str
    bytes: int
    modified_at: datetime
    complete: bool  # False for a temporary file a write left behind


class MediaStore:
    """The folder that holds the photos (``GEO311_MEDIA_DIR``, ``var/media`` by default)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def write(self, data: bytes, extension: str) -> str:
        """Store ``data`` durably under a new random name (returned) ending in ``.extension``."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_urlsafe(24)}.{extension}"
        descriptor, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.root / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._sync_folder()
        return name

    def path(self, name: str) -> Path | None:
        """The file of a stored name, or None for a name this store never makes (no path tricks get through)."""
        if not NAME_PATTERN.fullmatch(name):
            return None
        return self.root / name

    def remove(self, name: str) -> None:
        """Delete a stored file (one whose row was never committed)."""
        path = self.path(name)
        if path is not None:
            path.unlink(missing_ok=True)

    def files(self) -> Iterator[StoredFile]:
        """The photo files and the temporary files of unfinished writes; nothing else in the folder."""
        if not self.root.is_dir():
            return
        for entry in os.scandir(self.root):
            complete = bool(NAME_PATTERN.fullmatch(entry.name))
            if not (complete or _INCOMING.fullmatch(entry.name)) or not entry.is_file(follow_symlinks=False):
                continue
            stat = entry.stat(follow_symlinks=False)
            yield StoredFile(entry.name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC), complete)

    def delete(self, stored: StoredFile) -> None:
        """Delete a file listed by :meth:`files`."""
        (self.root / stored.name).unlink(missing_ok=True)

    def _sync_folder(self) -> None:
        """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
        try:
            descriptor = os.open(self.root, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(descriptor)
        except OSError:
            pass
        finally:
            os.close(descriptor)
