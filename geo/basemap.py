"""A local basemap file, served by the app itself: an MBTiles or a PMTiles archive.

:func:`open_archive` opens one (``.mbtiles``: SQLite, read with :mod:`sqlite3`;
``.pmtiles``: read with the ``pmtiles`` package) as a :class:`TileArchive`, which gives
each tile in the XYZ scheme (MBTiles rows are stored bottom up, TMS: flipped here) with
its content type and whether its bytes are gzip-compressed, as vector tiles usually are.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import Compression, TileType

#: Content types by tile format (the MBTiles ``format`` metadata value).
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "avif": "image/avif",
    "pbf": "application/vnd.mapbox-vector-tile",
    "mvt": "application/vnd.mapbox-vector-tile",
}
_PMTILES_FORMATS = {
    TileType.MVT: "pbf",
    TileType.PNG: "png",
    TileType.JPEG: "jpg",
    TileType.WEBP: "webp",
    TileType.AVIF: "avif",
}
_GZIP_MAGIC = b"\x1f\x8b"


class BasemapError(ValueError):
    """A basemap file that cannot be used (the message says what to fix)."""


@dataclass(frozen=True)
class Tile:
    """One tile's bytes as stored, with how to send them."""

    data: bytes
    content_type: str
    gzipped: bool


@dataclass
class TileArchive(ABC):
    """An opened basemap file: its format (``png``, ``jpg``, ``webp``, ``pbf`` ...) and zoom range."""

    path: Path
    format: str
    min_zoom: int
    max_zoom: int
    attribution: str

    @property
    def vector(self) -> bool:
        """Whether the tiles are vector tiles (drawn in the browser) rather than images."""
        return self.format in ("pbf", "mvt")

    @property
    def content_type(self) -> str:
        """The content type of every tile of the archive."""
        return CONTENT_TYPES.get(self.format, "application/octet-stream")

    @abstractmethod
    def tile(self, z: int, x: int, y: int) -> Tile | None:
        """Tile ``z``/``x``/``y`` (XYZ scheme), None when the archive does not hold it."""


class MBTilesArchive(TileArchive):
    """An MBTiles file (SQLite; rows in the TMS scheme), opened read-only."""

    def __init__(self, path: Path) -> None:
        self._local = threading.local()
        try:
            meta = dict(self._connection_for(path).execute("SELECT name, value FROM metadata").fetchall())
        except sqlite3.DatabaseError as exc:
            raise BasemapError(f"{path} is not an MBTiles file ({exc}).") from None
        fmt = (meta.get("format") or "png").lower()
        if fmt not in CONTENT_TYPES:
            raise BasemapError(f"{path}: tile format {fmt!r} is not one of {', '.join(sorted(CONTENT_TYPES))}.")
        zooms = self._connection_for(path).execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        super().__init__(
            path,
            fmt,
            int(meta.get("minzoom", zooms[0] or 0)),
            int(meta.get("maxzoom", zooms[1] or 0)),
            meta.get("attribution", ""),
        )

    def _connection_for(self, path: Path) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            self._local.connection = connection
        return connection

    def tile(self, z: int, x: int, y: int) -> Tile | None:
        """Tile ``z``/``x``/``y`` (XYZ; the row is flipped to TMS), None when the file does not hold it."""
        row = (
            self._connection_for(self.path)
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (1 << z) - 1 - y),
            )
            .fetchone()
        )
        if row is None:
            return None
        data = bytes(row[0])
        return Tile(data, self.content_type, data[:2] == _GZIP_MAGIC)


class PMTilesArchive(TileArchive):
    """A PMTiles (version 3) file, memory-mapped."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        try:
            self._reader = Reader(MmapSource(self._file))
            header = self._reader.header()
        except Exception as exc:  # the reader raises plain exceptions on a file of another kind
            self._file.close()
            raise BasemapError(f"{path} is not a PMTiles file ({exc}).") from None
        fmt = _PMTILES_FORMATS.get(header["tile_type"])
        if fmt is None:
            raise BasemapError(f"{path}: tile type {header['tile_type']} cannot be served.")
        self._gzipped = header["tile_compression"] == Compression.GZIP
        try:
            attribution = str(self._reader.metadata().get("attribution", ""))
        except (ValueError, json.JSONDecodeError):
            attribution = ""
        super().__init__(path, fmt, header["min_zoom"], header["max_zoom"], attribution)

    def tile(self, z: int, x: int, y: int) -> Tile | None:
        """Tile ``z``/``x``/``y``, None when the archive does not hold it (gzip as the header says)."""
        data = self._reader.get(z, x, y)
        if data is None:
            return None
        return Tile(bytes(data), self.content_type, self._gzipped or bytes(data[:2]) == _GZIP_MAGIC)


_OPEN: dict[Path, TileArchive] = {}
_LOCK = threading.Lock()


def open_archive(path: Path) -> TileArchive:
    """The archive at ``path`` (``.mbtiles`` or ``.pmtiles``), opened once per process."""
    path = Path(path)
    with _LOCK:
        found = _OPEN.get(path)
        if found is None:
            if not path.is_file():
                raise BasemapError(f"The basemap file {path} does not exist.")
            suffix = path.suffix.lower()
            if suffix == ".mbtiles":
                found = MBTilesArchive(path)
            elif suffix == ".pmtiles":
                found = PMTilesArchive(path)
            else:
                raise BasemapError(f"The basemap file {path} must be an .mbtiles or a .pmtiles file.")
            _OPEN[path] = found
        return found
