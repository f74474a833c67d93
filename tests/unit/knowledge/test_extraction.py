"""Extraction end to end through the sandbox child. Every file is generated here, hostile ones too.

The ``child_*`` functions are stand-in parsers run *inside the child process* (``extract_function``)
to prove that the sandbox contains hangs, crashes, memory hogs and noisy parsers."""

from __future__ import annotations

import io
import os
import sys
import time
import zipfile
from pathlib import Path

import psutil
import pytest

from kalamna.adapters.extraction import SandboxedTextExtractor
from kalamna.domain.errors import PayloadTooLarge, UnreadableDocument, UnsupportedMediaType
from kalamna.domain.text import ExtractedDocument

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
THIS_MODULE = "tests.unit.knowledge.test_extraction"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


# --- file builders ---------------------------------------------------------------------------------


def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered object bodies (object 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_pdf(pages: list[str]) -> bytes:
    """One page per string, each line drawn with Helvetica (so pypdf can map glyphs back to text)."""
    page_ids = [4 + 2 * index for index in range(len(pages))]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % page for page in page_ids), len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for page_id, text in zip(page_ids, pages, strict=True):
        shown = b" ".join(
            b"("
            + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")
            + b") Tj T*"
            for line in text.split("\n")
        )
        stream = b"BT /F1 12 Tf 72 720 Td 14 TL " + shown + b" ET"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_id + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    return build_pdf(objects)


def docx(document_xml: str, extra: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", document_xml)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def document_xml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'


def paragraph(text: str, style: str | None = None) -> str:
    properties = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f'<w:p>{properties}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


@pytest.fixture
def extractor() -> SandboxedTextExtractor:
    return SandboxedTextExtractor()


# --- supported formats -------------------------------------------------------------------------------


async def test_plain_text_utf8_with_and_without_bom(extractor: SandboxedTextExtractor) -> None:
    for data in ("مرحبا\r\nHello".encode(), "\ufeffمرحبا\r\nHello".encode()):
        document = await extractor.extract(data, "notes.txt", "text/plain")
        assert document == ExtractedDocument("مرحبا\nHello", "text/plain", None)


async def test_plain_text_utf16_with_bom(extractor: SandboxedTextExtractor) -> None:
    document = await extractor.extract("سؤال؟ جواب.".encode("utf-16"), "faq.TXT", None)
    assert document.text == "سؤال؟ جواب."


async def test_markdown_is_kept_as_markdown(extractor: SandboxedTextExtractor) -> None:
    source = "# Title\n\n- item *one*\n- item two\n\n\n\n\nEnd  "
    document = await extractor.extract(source.encode(), "guide.md", None)
    assert document == ExtractedDocument("# Title\n\n- item *one*\n- item two\n\nEnd", "text/markdown", None)


async def test_html_keeps_visible_text_and_structure_only(extractor: SandboxedTextExtractor) -> None:
    page = """<!doctype html><html><head><title>Secret title</title><meta name="x" content="meta text">
    <style>body { color: red }</style><script>var leaked = "script text";</script></head>
    <body><noscript>enable js</noscript><template><p>template text</p></template>
    <h2>Returns &amp; refunds</h2><p>Refunds   take
    <b>five</b> days&nbsp;&mdash; usually.</p><ul><li>Card</li><li>Cash</li></ul>
    <table><tr><th>Plan</th><th>Price</th></tr><tr><td>Basic</td><td>10 &euro;</td></tr></table>
    <script type="application/ld+json">{"json": "ld"}</script></body></html>"""
    document = await extractor.extract(page.encode(), "page.html", "text/html")
    assert document.content_type == "text/html"
    assert document.text == (
        "## Returns & refunds\n\nRefunds take five days — usually.\n\n- Card\n- Cash\n\nPlan\tPrice\nBasic\t10 €"
    )
    for hidden in ("Secret title", "meta text", "color", "script text", "enable js", "template text", "json"):
        assert hidden not in document.text


async def test_html_in_a_legacy_arabic_charset(extractor: SandboxedTextExtractor) -> None:
    page = '<html><head><meta charset="windows-1256"></head><body><p>مرحبا بكم</p></body></html>'
    document = await extractor.extract(page.encode("cp1256"), "old.htm", None)
    assert document.text == "مرحبا بكم"


async def test_pdf_text_of_every_page(extractor: SandboxedTextExtractor) -> None:
    data = text_pdf(["Refund policy (2024)\nReturns within 30 days.", "Shipping takes 3.5 days."])
    document = await extractor.extract(data, "policy.pdf", "application/octet-stream")
    assert document.content_type == "application/pdf"
    assert document.pages == 2
    assert document.text == "Refund policy (2024)\nReturns within 30 days.\n\nShipping takes 3.5 days."


async def test_docx_paragraphs_headings_and_tables(extractor: SandboxedTextExtractor) -> None:
    styles = (
        f'<w:styles xmlns:w="{W_NS}"><w:style w:type="paragraph" w:styleId="berschrift2">'
        '<w:name w:val="heading 2"/></w:style></w:styles>'
    )
    table = (
        "<w:tbl><w:tr><w:tc>"
        + paragraph("Plan")
        + "</w:tc><w:tc>"
        + paragraph("Price")
        + "</w:tc></w:tr><w:tr><w:tc>"
        + paragraph("Basic")
        + "</w:tc><w:tc>"
        + paragraph("10 SAR")
        + "</w:tc></w:tr></w:tbl>"
    )
    body = (
        paragraph("Handbook", "Title")
        + paragraph("Returns", "berschrift2")  # a localised style id, resolved through styles.xml
        + "<w:p><w:r><w:t>Refunds take </w:t></w:r><w:r><w:t>five days.</w:t><w:br/><w:t>Really.</w:t></w:r></w:p>"
        + "<w:p><w:del><w:r><w:delText>deleted words</w:delText></w:r></w:del></w:p>"
        + table
        + paragraph("الاسترجاع خلال ٣٠ يوماً.")
    )
    data = docx(document_xml(body), {"word/styles.xml": styles})
    document = await extractor.extract(data, "handbook.docx", DOCX_TYPE)
    assert document.content_type == DOCX_TYPE
    assert document.text == (
        "# Handbook\n\n## Returns\n\nRefunds take five days.\nReally.\n\nPlan\tPrice\nBasic\t10 SAR\n\n"
        "الاسترجاع خلال ٣٠ يوماً."
    )


# --- refused types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (text_pdf(["hello"]), "renamed.txt"),  # an all-ASCII PDF renamed to .txt
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image.txt"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "program.md"),
        (docx(document_xml(paragraph("x"))), "archive.html"),
        (b"plain text", "notes.pdf"),  # named PDF, is not
        (text_pdf(["hello"]), "report.docx"),
        ("café".encode("latin-1"), "latin1.txt"),  # not UTF-8
        (b"text with a NUL \x00 byte", "nul.txt"),
        (b"hello", "script.exe"),
        (b"hello", "no-extension"),
        (b"hello", "archive.tar.gz"),
    ],
)
async def test_renamed_binaries_and_unknown_types_are_unsupported(
    extractor: SandboxedTextExtractor, data: bytes, filename: str
) -> None:
    with pytest.raises(UnsupportedMediaType):
        await extractor.extract(data, filename, "text/plain")


async def test_the_declared_content_type_is_not_trusted(extractor: SandboxedTextExtractor) -> None:
    document = await extractor.extract(b"hello", "notes.txt", "application/pdf")
    assert document.content_type == "text/plain"
    with pytest.raises(UnsupportedMediaType):
        await extractor.extract(b"hello", "README", "text/markdown; charset=utf-8")


async def test_zip_that_is_not_a_word_document_is_unsupported(extractor: SandboxedTextExtractor) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(UnsupportedMediaType):
        await extractor.extract(buffer.getvalue(), "fake.docx", DOCX_TYPE)


async def test_oversized_upload_is_refused_before_any_work(extractor: SandboxedTextExtractor) -> None:
    with pytest.raises(PayloadTooLarge):
        await extractor.extract(b"a" * (10 * 1024 * 1024 + 1), "big.txt", None)


# --- unreadable and hostile documents ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b" \n\t\r\n ", "blank.txt"),
        (b"<html><head><title>only a title</title></head><body><script>x()</script></body></html>", "e.html"),
        (text_pdf([""]), "blank.pdf"),
        (docx(document_xml("<w:p/>")), "blank.docx"),
    ],
)
async def test_documents_without_text_are_unreadable(
    extractor: SandboxedTextExtractor, data: bytes, filename: str
) -> None:
    with pytest.raises(UnreadableDocument):
        await extractor.extract(data, filename, None)


async def test_damaged_pdf_is_unreadable(extractor: SandboxedTextExtractor) -> None:
    with pytest.raises(UnreadableDocument):
        await extractor.extract(b"%PDF-1.7\n this is not really a pdf", "damaged.pdf", None)


async def test_pdf_with_a_cyclic_page_tree_is_unreadable_not_endless(
    extractor: SandboxedTextExtractor,
) -> None:
    data = build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1 >>",
        ]
    )
    with pytest.raises(UnreadableDocument):
        await extractor.extract(data, "loop.pdf", None)


async def test_docx_zip_bomb_is_unreadable(extractor: SandboxedTextExtractor) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            zeros = bytes(1024 * 1024)
            for _ in range(200):  # 200 MiB of zeros, streamed: the archive is well under 1 MiB
                entry.write(zeros)
    assert len(buffer.getvalue()) < 1024 * 1024
    with pytest.raises(UnreadableDocument, match=r"zip bomb|too much"):
        await extractor.extract(buffer.getvalue(), "bomb.docx", DOCX_TYPE)


async def test_docx_with_too_many_entries_is_unreadable(extractor: SandboxedTextExtractor) -> None:
    extra = {f"word/media/part{n}.xml": "" for n in range(2001)}
    with pytest.raises(UnreadableDocument, match="too many"):
        await extractor.extract(docx(document_xml(paragraph("x")), extra), "many.docx", DOCX_TYPE)


async def test_docx_billion_laughs_is_unreadable(extractor: SandboxedTextExtractor) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{level} "{("&lol" + (str(level - 1) if level > 1 else "") + ";") * 10}">'
        for level in range(1, 10)
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
        f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'
    )
    with pytest.raises(UnreadableDocument, match="DTD"):
        await extractor.extract(docx(xml), "laughs.docx", DOCX_TYPE)


async def test_docx_utf16_doctype_is_still_refused(extractor: SandboxedTextExtractor) -> None:
    xml = (
        f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><w:document xmlns:w="{W_NS}"/>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", xml.encode("utf-16"))
    with pytest.raises(UnreadableDocument, match="DTD"):
        await extractor.extract(buffer.getvalue(), "laughs16.docx", DOCX_TYPE)


# --- the sandbox itself ------------------------------------------------------------------------------------


def child_hang(kind: str, data: bytes) -> ExtractedDocument:
    """Writes its pid to the path it was given, then never returns."""
    Path(data.decode()).write_text(str(os.getpid()))
    while True:
        time.sleep(1)


def child_crash(kind: str, data: bytes) -> ExtractedDocument:
    os.abort()


def child_hog_memory(kind: str, data: bytes) -> ExtractedDocument:
    hog = bytearray(2 * 1024 * 1024 * 1024)  # twice the default limit
    return ExtractedDocument(str(len(hog)), kind)


def child_noisy_environment_reader(kind: str, data: bytes) -> ExtractedDocument:
    print("parsers that print must not corrupt the reply")
    return ExtractedDocument(repr(sorted(os.environ.items())), kind)


async def test_a_hanging_parser_is_killed_after_the_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    extractor = SandboxedTextExtractor(timeout_s=3.0, extract_function=f"{THIS_MODULE}:child_hang")
    with pytest.raises(UnreadableDocument, match="took too long"):
        await extractor.extract(str(pid_file).encode(), "hang.txt", None)
    children = psutil.Process().children(recursive=True)
    assert not [child for child in children if "child_main" in " ".join(child.cmdline())]
    if pid_file.exists():  # the child got as far as starting the parser: it is gone, and reaped
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)


async def test_a_crashing_parser_is_unreadable_not_fatal() -> None:
    extractor = SandboxedTextExtractor(extract_function=f"{THIS_MODULE}:child_crash")
    with pytest.raises(UnreadableDocument):
        await extractor.extract(b"anything", "crash.txt", None)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
async def test_a_memory_hog_hits_the_limit_and_is_unreadable() -> None:
    extractor = SandboxedTextExtractor(
        memory_limit_bytes=512 * 1024 * 1024, extract_function=f"{THIS_MODULE}:child_hog_memory"
    )
    with pytest.raises(UnreadableDocument, match="memory"):
        await extractor.extract(b"anything", "hog.txt", None)


async def test_the_child_sees_no_secrets_and_its_prints_do_not_corrupt_the_reply(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KALAMNA_DATABASE_URL", "postgresql://user:hunter2@db/kalamna")
    extractor = SandboxedTextExtractor(extract_function=f"{THIS_MODULE}:child_noisy_environment_reader")
    document = await extractor.extract(b"anything", "env.txt", None)
    assert "PYTHONPATH" in document.text
    assert "hunter2" not in document.text
    assert "KALAMNA" not in document.text


async def test_text_beyond_the_character_limit_is_too_large() -> None:
    extractor = SandboxedTextExtractor(max_text_chars=100)
    with pytest.raises(PayloadTooLarge):
        await extractor.extract(b"word " * 100, "long.txt", None)
