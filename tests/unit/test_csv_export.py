from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from kalamna.web.csv_export import attachment, csv_bytes, iter_csv, safe_cell


@pytest.mark.parametrize(
    ("raw", "cell"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("مرحبا =1", "مرحبا =1"),
        ("", ""),
        (None, ""),
        (-3, "-3"),
        (0.25, "0.25"),
        (True, "true"),
        (date(2026, 1, 2), "2026-01-02"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05Z"),
    ],
)
def test_safe_cell(raw: object, cell: str) -> None:
    assert safe_cell(raw) == cell


def test_document_round_trips_through_a_csv_reader() -> None:
    rows = [("role", "content"), ("user", "كم سعر الشحن؟\nسطر ثان"), ("agent", '=HYPERLINK("http://x")')]
    data = csv_bytes(rows)
    assert data.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert parsed == [
        ["role", "content"],
        ["user", "كم سعر الشحن؟\nسطر ثان"],
        ["agent", '\'=HYPERLINK("http://x")'],
    ]
    assert list(iter_csv([("a",)])) == ["\ufeff", "a\r\n"]


def test_attachment_filename_is_ascii() -> None:
    assert attachment('تقرير "x".csv')["Content-Disposition"] == 'attachment; filename="_______x_.csv"'
