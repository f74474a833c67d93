"""CSV for spreadsheets: UTF-8 with a BOM (so Excel reads Arabic), CRLF rows, formula-injection safe.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with
``'`` so that no spreadsheet evaluates it (OWASP's CSV-injection advice). Numbers we computed are
written as they are. Reused by every CSV export (analytics, conversations).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

BOM = "\ufeff"
MEDIA_TYPE = "text/csv"  # Litestar adds "; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = Sequence[Any]


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def iter_csv(rows: Iterable[Row]) -> Iterator[str]:
    """The document piece by piece (BOM first), for streaming responses; one row per piece."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield BOM
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def csv_bytes(rows: Iterable[Row]) -> bytes:
    return "".join(iter_csv(rows)).encode("utf-8")


def attachment(filename: str) -> dict[str, str]:
    """Headers that make browsers save the CSV under ``filename`` (ASCII only)."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename)
    return {"Content-Disposition": f'attachment; filename="{safe}"', "Cache-Control": "no-store"}
