"""Tables written for spreadsheets (CSV and Excel) without formula injection.

A spreadsheet reads a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula, so an address such as ``=HYPERLINK(...)`` typed by a resident would
run on the computer of the staff member who opens the export. OWASP's rule: such a text
cell is written with a single quote in front (:func:`safe_cell`), and in an .xlsx file as
a string cell, never a formula. Numbers stay numbers (``-2.5`` in a numeric column is not
text and is not touched). Every CSV and XLSX the app writes goes through this module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

#: The first characters that make a spreadsheet read a text cell as a formula (OWASP, CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet should receive it: text that would start a formula gets a leading
    single quote; anything that is not text (numbers, dates, missing values) is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_cell` applied to its column names and text columns
    (numeric and date columns are left as they are)."""
    out = pd.DataFrame(frame).copy()
    out.columns = [safe_cell(c) for c in out.columns]
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            out.isetitem(position, series.map(safe_cell, na_action="ignore"))
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` (without its index) as UTF-8 CSV (RFC 4180 line ends), formula-safe."""
    # With CRLF line ends the writer quotes a field holding a lone CR too, so a value such as
    # "\r=1" stays one field of one row for whoever reads the file back.
    return safe_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An Excel workbook with one sheet per ``sheets`` item (name -> frame, without index), formula-safe:
    no cell of it is a formula."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe_frame(frame).to_excel(writer, sheet_name=name, index=False)
            for row in writer.sheets[name].iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # openpyxl reads any text beginning with "=" as one
                        cell.data_type = "s"
    return buffer.getvalue()


def write_csv(path: Path, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Path:
    """Write ``header`` and ``rows`` to the CSV file ``path`` (UTF-8), formula-safe; returns the path."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([safe_cell(v) for v in header])
        writer.writerows([safe_cell(v) for v in row] for row in rows)
    return path


__all__ = ["FORMULA_TRIGGERS", "csv_bytes", "safe_cell", "safe_frame", "write_csv", "xlsx_bytes"]
