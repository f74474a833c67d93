"""Arabic PDFs come out in logical order: a shaped right-to-left PDF (fpdf2 + HarfBuzz, glyphs in
visual order like a word processor's) is read back as the sentence that was written, numbers in
place; pypdf, the former extractor, returns its runs in reverse order."""

from __future__ import annotations

import io

from pypdf import PdfReader

from kalamna.adapters.extraction.extractors import pdf_text
from kalamna.domain.text import normalize_for_search
from tests.quality.documents import pdf_file

SENTENCE = "يصل الطلب في 6 ساعات داخل القاهرة عند الطلب قبل الساعة 3 عصرا."
BODY = f"الشحن السريع\n\n{SENTENCE}\n\nExpress shipping costs 120 EGP."


def test_a_shaped_arabic_pdf_is_extracted_in_logical_order() -> None:
    text, pages = pdf_text(pdf_file(BODY))
    assert pages == 1
    folded = normalize_for_search(text)
    assert normalize_for_search(SENTENCE) in folded
    assert "express shipping costs 120 egp." in folded
    assert not any(0xFB50 <= ord(c) <= 0xFEFF for c in text)  # no presentation forms left


def test_pypdf_alone_would_reverse_the_runs() -> None:
    data = pdf_file(BODY)
    legacy = normalize_for_search(PdfReader(io.BytesIO(data)).pages[0].extract_text())
    assert normalize_for_search(SENTENCE) not in legacy


def test_lines_the_pdf_wrapped_are_joined_back_into_their_sentence() -> None:
    long_sentence = (
        "Laptops and phones come with a two-year warranty that covers manufacturing defects, but "
        "accidental damage such as cracked screens or water damage is not covered by it."
    )
    text, _ = pdf_text(pdf_file(f"Warranty\n\n{long_sentence}\n\nShort line."))
    assert text.split("\n") == ["Warranty", long_sentence, "Short line."]
