"""Upload files built from the benchmark's text: HTML pages with page furniture, Word documents
(python-docx, headings as heading styles) and PDFs (fpdf2 with HarfBuzz shaping, so Arabic is laid
out as a word processor would: shaped glyphs, right-to-left)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

ARABIC = re.compile(r"[\u0600-\u06ff]")
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def paragraphs(body: str) -> list[str]:
    return [p.strip() for p in body.split("\n\n") if p.strip()]


def html_page(title: str, body: str, furniture: tuple[str, str]) -> bytes:
    lang, direction = ("ar", "rtl") if ARABIC.search(body) else ("en", "ltr")
    main = []
    for paragraph in paragraphs(body):
        if paragraph.startswith("# "):
            main.append(f"<h1>{html.escape(paragraph[2:])}</h1>")
        else:
            main.append(f"<p>{html.escape(paragraph)}</p>")
    page = (
        f"<!doctype html><html lang='{lang}' dir='{direction}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>.x{{color:red}}</style></head><body>"
        f"{furniture[0]}<main><article>{''.join(main)}</article></main>{furniture[1]}"
        "<script>window.dataLayer = [];</script></body></html>"
    )
    return page.encode("utf-8")


def docx_file(body: str) -> bytes:
    from docx import Document

    document = Document()
    for paragraph in paragraphs(body):
        if paragraph.startswith("# "):
            document.add_heading(paragraph[2:], level=1)
        else:
            document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_file(body: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("dejavu", fname=str(FONT))
    pdf.set_font("dejavu", size=12)
    pdf.set_text_shaping(True)
    for paragraph in paragraphs(body):
        pdf.multi_cell(
            0,
            8,
            paragraph,
            align="R" if ARABIC.search(paragraph) else "L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(4)
    return bytes(pdf.output())
