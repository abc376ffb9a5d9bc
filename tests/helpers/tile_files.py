"""Small basemap files the tests write: MBTiles (SQLite), PMTiles, and solid-colour PNG tiles."""

from __future__ import annotations

import sqlite3
import struct
import zlib


def solid_png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A ``size`` x ``size`` PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * size
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def write_mbtiles(path, fmt: str, tiles: dict[tuple[int, int, int], bytes]) -> None:
    """An MBTiles file (rows in the TMS scheme, as the specification stores them)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name text, value text)")
        db.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)")
        db.executemany(
            "INSERT INTO metadata VALUES (?, ?)",
            [
                ("format", fmt),
                ("minzoom", str(min(z for z, _, _ in tiles))),
                ("maxzoom", str(max(z for z, _, _ in tiles))),
                ("attribution", "Test tiles"),
            ],
        )
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()],
        )
    db.close()


def write_pmtiles(path, tile_type, compression, tiles: dict[tuple[int, int, int], bytes]) -> None:
    """A PMTiles file written with the pmtiles package's writer."""
    from pmtiles.tile import zxy_to_tileid
    from pmtiles.writer import Writer

    with open(path, "wb") as f:
        writer = Writer(f)
        for (z, x, y), data in sorted(tiles.items(), key=lambda item: zxy_to_tileid(*item[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), data)
        writer.finalize(
            {
                "tile_type": tile_type,
                "tile_compression": compression,
                "min_lon_e7": -1800000000,
                "min_lat_e7": -850000000,
                "max_lon_e7": 1800000000,
                "max_lat_e7": 850000000,
                "center_zoom": 0,
                "center_lon_e7": 0,
                "center_lat_e7": 0,
            },
            {"attribution": "Test PMTiles"},
        )
