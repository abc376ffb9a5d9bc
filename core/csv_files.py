"""Reading a city's CSV data files (request history, address lists) in one way, strictly.

A file is read in the encoding its source names in the city file (``encoding``, UTF-8 by
default) and never "repaired": a byte that is not text in that encoding is an error naming
the line and the option to set, not a replacement character in the database. An empty
file, a file with a header but no rows, and a field longer than any real one (a sign of a
quote that is never closed) are errors too, each one sentence naming the file, the row or
column and the fix, raised before anything is loaded.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from core.errors import DataFileError

DEFAULT_ENCODING = "utf-8"
#: The longest field accepted, in characters: that of Python's csv module (128 KiB).
MAX_FIELD = 131_072


def read_csv_file(path: Path, encoding: str | None = None, *, rows_required: bool = True) -> pd.DataFrame:
    """The rows of the CSV file ``path`` as text (empty cells missing), read in ``encoding``.

    Row ``i`` of the frame (from 0) is row ``i + 2`` of the file: the header is row 1.
    Raises :class:`DataFileError` for an empty file, a header without rows (unless not
    ``rows_required``: one file of many, such as a request type without requests that
    year), text not in ``encoding``, a field longer than :data:`MAX_FIELD` or a file that
    is not CSV.
    """
    chunks = list(read_csv_chunks(path, encoding, rows_required=rows_required))
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks)


def read_csv_chunks(
    path: Path, encoding: str | None = None, chunk_rows: int | None = None, *, rows_required: bool = True
) -> Iterator[pd.DataFrame]:
    """The rows of ``path`` as :func:`read_csv_file` reads them, ``chunk_rows`` at a time (all at once if None).

    A file of ten million rows is read in the memory of one chunk. Each chunk's index counts
    on from the one before (row ``i`` is row ``i + 2`` of the file). The header is always
    yielded, as an empty frame of the columns, when the file has no rows and ``rows_required``
    is false; a problem found in a later chunk is raised when that chunk is read, so a caller
    that loads chunk by chunk must do so in one transaction.
    """
    encoding = encoding or DEFAULT_ENCODING
    if path.stat().st_size == 0:
        raise DataFileError(
            f"{path.name} is empty (0 bytes): export it again with its header and rows, "
            "or remove it from the sources in the city file."
        )
    options = {"dtype": str, "keep_default_na": False, "na_values": [""], "encoding": encoding}
    try:
        if chunk_rows is None:
            reader: Iterator[pd.DataFrame] = iter([pd.read_csv(path, **options)])
        else:
            reader = pd.read_csv(path, chunksize=chunk_rows, **options)
        first = True
        for frame in _decoded(reader, path, encoding):
            if frame.empty and first and rows_required:
                raise DataFileError(
                    f"{path.name} has a header row but no rows: export it again with its rows, "
                    "or remove it from the sources in the city file."
                )
            _check_field_lengths(frame, path)
            first = False
            yield frame
    except pd.errors.EmptyDataError:
        raise DataFileError(
            f"{path.name} holds no header row, only blank lines: export it again with its "
            "header and rows, or remove it from the sources in the city file."
        ) from None
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise DataFileError(_undecodable(path, encoding)) from None
        raise DataFileError(f"{path.name} cannot be read as CSV ({str(exc).splitlines()[0]}); check the file.") from exc
    if first:  # a chunked reader yields nothing for a header without rows
        if rows_required:
            raise DataFileError(
                f"{path.name} has a header row but no rows: export it again with its rows, "
                "or remove it from the sources in the city file."
            )
        yield pd.read_csv(path, nrows=0, **options)


def _decoded(reader: Iterator[pd.DataFrame], path: Path, encoding: str) -> Iterator[pd.DataFrame]:
    """The frames of ``reader``, a byte that is not text in ``encoding`` raised as the sentence saying where."""
    while True:
        try:
            frame = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise DataFileError(_undecodable(path, encoding)) from None
        yield frame


def _check_field_lengths(frame: pd.DataFrame, path: Path) -> None:
    fix = (
        "the file is damaged, most often by a quote that is never closed; fix that row "
        f"(fields hold at most {MAX_FIELD:,} characters) and import again."
    )
    for column in frame.columns:
        if len(str(column)) > MAX_FIELD:
            raise DataFileError(
                f"{path.name} row 1 (the header) holds a column name of {len(str(column)):,} characters: {fix}"
            )
        lengths = frame[column].str.len()
        if lengths.max() > MAX_FIELD:
            index = lengths.idxmax()
            name = str(column)[:60]
            raise DataFileError(
                f"{path.name} row {int(index) + 2}, column {name}, holds a field of "
                f"{int(lengths[index]):,} characters: {fix}"
            )


def _undecodable(path: Path, encoding: str) -> str:
    """The sentence for a file that is not text in ``encoding``: where the first bad byte is, and what to set."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    byte = None
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                line += block.count(b"\n", 0, max(exc.start, 0))
                byte = block[exc.start : exc.start + 1] if exc.start >= 0 else None
                break
            line += block.count(b"\n")
    what = f" (byte 0x{byte.hex().upper()})" if byte else ""
    hint = (
        'set encoding = "latin-1" (or "cp1252") on this source'
        if encoding.lower().replace("_", "-") in ("utf-8", "utf8")
        else "set the file's real encoding on this source"
    )
    return (
        f"{path.name} line {line} is not {encoding.upper()} text{what}: {hint} in the city file, "
        "or save the file as UTF-8."
    )


__all__ = ["DEFAULT_ENCODING", "MAX_FIELD", "read_csv_chunks", "read_csv_file"]
