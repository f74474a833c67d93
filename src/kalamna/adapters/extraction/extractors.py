"""Text out of each supported format. These functions parse hostile bytes: they run only inside the
sandbox child process (``sandbox.py``), never in the API or worker process."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from xml.etree import ElementTree

from kalamna.adapters.extraction.sniff import DocumentKind, decode_text
from kalamna.domain.errors import UnreadableDocument, UnsupportedMediaType
from kalamna.domain.text import ExtractedDocument


def extract_document(kind: str, data: bytes) -> ExtractedDocument:
    """Extract the text of ``data`` (already sniffed as ``kind``); whitespace is tidied, the text
    may still be blank (the caller decides what blank means)."""
    document_kind = DocumentKind(kind)
    pages: int | None = None
    if document_kind is DocumentKind.PDF:
        text, pages = pdf_text(data)
    elif document_kind is DocumentKind.DOCX:
        text = docx_text(data)
    elif document_kind is DocumentKind.HTML:
        text = html_text(decode_text(data, document_kind))
    else:
        text = decode_text(data, document_kind)
    return ExtractedDocument(tidy(text), document_kind.value, pages)


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffe\uffff]")  # PostgreSQL text refuses NUL
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+\n")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """One newline convention, no control characters or lone surrogates, no trailing spaces, at
    most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    text = _CONTROLS.sub("", text)
    text = _TRAILING_SPACE.sub("\n", text)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


# --- PDF -----------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> tuple[str, int]:
    """Text of each page, pages separated by a blank line, NFKC-normalised (presentation forms →
    letters). PDFium (pypdfium2) first: it returns right-to-left text in logical order (pypdf gives
    shaped Arabic as visual runs in reverse order, numbers moved: replies then quote sentences
    backwards); pypdf when PDFium cannot open the file. A page that fails to parse is skipped; a
    document where every page fails is unreadable."""
    try:
        text, pages = _pdfium_text(data)
    except UnreadableDocument:
        raise
    except Exception:
        text, pages = _pypdf_text(data)
    return unicodedata.normalize("NFKC", text), pages


def _pdfium_text(data: bytes) -> tuple[str, int]:
    import pypdfium2  # imported here: only the sandbox child pays for it

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        if "password" in str(error).lower():
            raise UnreadableDocument("The PDF is password-protected.") from error
        raise
    try:
        texts: list[str] = []
        failures = 0
        count = len(document)
        for index in range(count):
            try:
                page = document[index]
                texts.append(_unwrap_lines(page.get_textpage().get_text_range()))
            except Exception:
                failures += 1
        if count and failures == count:
            raise UnreadableDocument("No page of the PDF could be read.")
        return "\n\n".join(text.strip() for text in texts), count
    finally:
        document.close()


_SENTENCE_END = (".", "!", "?", "؟", ":", "…", "۔", "؛")


def _unwrap_lines(page: str) -> str:
    """Join the lines a PDF wrapped: a line nearly as long as the page's longest that does not end a
    sentence continues on the next line (else replies would quote half a sentence)."""
    lines = page.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    longest = max((len(line.strip()) for line in lines), default=0)
    out: list[str] = []
    joining = False
    for line in lines:
        text = line.strip()
        if joining and text:
            out[-1] = out[-1] + " " + text
        else:
            out.append(text)
        joining = len(text) >= max(40, 0.6 * longest) and not text.endswith(_SENTENCE_END)
    return "\n".join(out)


def _pypdf_text(data: bytes) -> tuple[str, int]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument("The PDF is password-protected.")
        pages = list(reader.pages)
    except UnreadableDocument:
        raise
    except Exception as error:
        raise UnreadableDocument("The PDF is damaged and could not be read.") from error
    texts: list[str] = []
    failures = 0
    for page in pages:
        try:
            texts.append(page.extract_text())
        except Exception:
            failures += 1
    if pages and failures == len(pages):
        raise UnreadableDocument("No page of the PDF could be read.")
    return "\n\n".join(text.strip() for text in texts), len(pages)


# --- DOCX ----------------------------------------------------------------------------------------

MAX_ZIP_ENTRIES = 2_000
MAX_TOTAL_UNCOMPRESSED = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading\s*([1-6])|title)$", re.IGNORECASE)


def docx_text(data: bytes) -> str:
    """Paragraphs as lines, table cells separated by tabs and rows by newlines, heading styles as
    Markdown ``#`` so the chunker can carry them. Zip-bomb and XML-entity defences first."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise UnreadableDocument("The Word document is damaged and could not be read.") from error
    with archive:
        entries = archive.infolist()
        _check_archive_limits(entries)
        names = {entry.filename for entry in entries}
        if not {"[Content_Types].xml", "word/document.xml"} <= names:
            raise UnsupportedMediaType("This file is named .docx but is not a Word document.")
        document = _parse_xml(_read_entry(archive, "word/document.xml"))
        heading_levels = (
            _heading_levels(_parse_xml(_read_entry(archive, "word/styles.xml")))
            if "word/styles.xml" in names
            else {}
        )
    body = document.find(f"{_W}body")
    if body is None:
        raise UnreadableDocument("The Word document has no body.")
    return "\n\n".join(_blocks(body, heading_levels))


def _check_archive_limits(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_ZIP_ENTRIES:
        raise UnreadableDocument("The Word document has too many parts.")
    if sum(entry.file_size for entry in entries) > MAX_TOTAL_UNCOMPRESSED:
        raise UnreadableDocument("The Word document expands to too much data.")
    for entry in entries:
        if entry.file_size > MAX_COMPRESSION_RATIO * max(entry.compress_size, 1):
            raise UnreadableDocument("The Word document is compressed suspiciously well (a zip bomb?).")


def _read_entry(archive: zipfile.ZipFile, name: str) -> bytes:
    """Read at most the size limit, whatever the (attacker-written) header claims."""
    try:
        with archive.open(name) as entry:
            content = entry.read(MAX_TOTAL_UNCOMPRESSED + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError) as error:
        raise UnreadableDocument("The Word document is damaged and could not be read.") from error
    if len(content) > MAX_TOTAL_UNCOMPRESSED:
        raise UnreadableDocument("The Word document expands to too much data.")
    return content


def _parse_xml(content: bytes) -> ElementTree.Element:
    """Parse without ever expanding entities: a DTD has no business in a Word part, so any
    ``<!DOCTYPE``/``<!ENTITY`` (billion laughs, external entities) is refused before parsing."""
    ascii_view = content.replace(b"\x00", b"")  # so UTF-16/32 parts are searched too
    if b"<!DOCTYPE" in ascii_view or b"<!ENTITY" in ascii_view:
        raise UnreadableDocument("The Word document contains a DTD, which is not allowed.")
    try:
        return ElementTree.fromstring(content)  # noqa: S314 - DTDs refused above
    except (ElementTree.ParseError, ValueError) as error:
        raise UnreadableDocument("The Word document's XML is damaged.") from error


def _heading_levels(styles: ElementTree.Element) -> dict[str, int]:
    """Style id -> heading level. Ids are localised ("Überschrift1"), names are not ("heading 1")."""
    levels: dict[str, int] = {}
    for style in styles.iter(f"{_W}style"):
        style_id = style.get(f"{_W}styleId")
        name = style.find(f"{_W}name")
        match = _HEADING_STYLE.match(name.get(f"{_W}val", "") if name is not None else "")
        if style_id and match:
            levels[style_id] = int(match.group(1) or 1)
    return levels


def _blocks(container: ElementTree.Element, heading_levels: dict[str, int]) -> Iterator[str]:
    for element in container:
        if element.tag == f"{_W}p":
            line = _paragraph_text(element)
            level = _paragraph_heading_level(element, heading_levels)
            if line.strip():
                yield f"{'#' * level} {line.strip()}" if level else line
        elif element.tag == f"{_W}tbl":
            rows = [_row_text(row, heading_levels) for row in element.findall(f"{_W}tr")]
            yield "\n".join(row for row in rows if row.strip())
        elif element.tag == f"{_W}sdt":  # content control: look inside
            content = element.find(f"{_W}sdtContent")
            if content is not None:
                yield from _blocks(content, heading_levels)


def _paragraph_text(paragraph: ElementTree.Element) -> str:
    parts: list[str] = []
    for node in paragraph.iter():
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag == f"{_W}tab":
            parts.append("\t")
        elif node.tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
        elif node.tag == f"{_W}noBreakHyphen":
            parts.append("-")
    return "".join(parts)


def _paragraph_heading_level(paragraph: ElementTree.Element, heading_levels: dict[str, int]) -> int:
    style = paragraph.find(f"{_W}pPr/{_W}pStyle")
    if style is not None:
        style_id = style.get(f"{_W}val", "")
        match = _HEADING_STYLE.match(style_id)
        return heading_levels.get(style_id) or (int(match.group(1) or 1) if match else 0)
    return 0


def _row_text(row: ElementTree.Element, heading_levels: dict[str, int]) -> str:
    cells = [
        " ".join(" ".join(_blocks(cell, heading_levels)).split()) for cell in row if cell.tag == f"{_W}tc"
    ]
    return "\t".join(cells)


# --- HTML ----------------------------------------------------------------------------------------

_INVISIBLE = frozenset({"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object"})
# Page furniture: navigation, banners, footers, sidebars, forms and dialogs repeat on every page and
# say nothing about the page's topic (a chunk made of them is close to every query).
_FURNITURE = frozenset({"nav", "header", "footer", "aside", "form", "dialog", "menu", "button", "select"})
_FURNITURE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "menu"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_MAIN = frozenset({"main", "article"})
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_PARAGRAPH_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "blockquote"}
    | {"pre", "table", "ul", "ol", "dl", "figure", "figcaption", "form", "fieldset", "address"}
    | {"details", "summary", "hr", "body", "html"}
)
_LINE_BLOCKS = frozenset({"br", "li", "tr", "dt", "dd", "caption", "option"})
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_WHITESPACE_RUN = re.compile(r"\s+")  # outside <pre>, source line breaks are just spaces


def _is_hidden(tag: str, attrs: list[tuple[str, str | None]], in_main: bool) -> bool:
    values = {name.lower(): (value or "") for name, value in attrs}
    return (
        (tag in _FURNITURE and not (in_main and tag in ("header", "footer")))  # an article's own header
        or "hidden" in values
        or values.get("aria-hidden", "").strip().lower() == "true"
        or values.get("role", "").strip().lower() in _FURNITURE_ROLES
        or bool(_HIDDEN_STYLE.search(values.get("style", "")))
    )


class _VisibleText(HTMLParser):
    """Collects what a reader sees of the page's own content: no scripts, styles or head, no page
    furniture (nav, header, footer, aside, forms) and nothing hidden (``hidden``, ``aria-hidden``,
    ``display:none``); blocks become lines, headings become Markdown ``#`` lines; entities are
    decoded by the parser (``convert_charrefs``). The text inside ``<main>``/``<article>`` is also
    collected on its own: when a page has one, that is the page's content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._pending_newlines = 0  # block boundaries seen since the last text; merged, not added
        self._hidden_depth = 0
        self._pre_depth = 0
        self._open: list[tuple[str, bool]] = []  # elements that hide their content, to close them
        self._main_depth = 0
        self.main_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._hidden_depth = 0  # a missing </head> must not hide the page
            self._open.clear()
        if tag in _INVISIBLE:
            self._hidden_depth += 1
        elif tag not in _VOID:
            hides = _is_hidden(tag, attrs, self._main_depth > 0)
            self._open.append((tag, hides))
            if hides:
                self._hidden_depth += 1
        if self._hidden_depth:
            return
        if tag in _MAIN:
            self._main_depth += 1
        self._break_for(tag)
        if tag in _HEADINGS:
            self._emit("#" * _HEADINGS[tag] + " ")
        elif tag == "li":
            self._emit("- ")
        elif tag in ("td", "th"):
            self._emit("\t")
        elif tag == "pre":
            self._pre_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._hidden_depth:
            self._break_for(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self._hidden_depth = max(0, self._hidden_depth - 1)
            return
        if any(name == tag for name, _ in self._open):  # close it (and anything left open inside it)
            while self._open:
                name, hides = self._open.pop()
                if hides:
                    self._hidden_depth = max(0, self._hidden_depth - 1)
                if name == tag:
                    break
        if not self._hidden_depth:
            if tag in _MAIN:
                self._main_depth = max(0, self._main_depth - 1)
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)
            self._break_for(tag)

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        self._emit(data if self._pre_depth else _WHITESPACE_RUN.sub(" ", data))

    def text(self) -> str:
        return "".join(self._parts)

    def _emit(self, text: str) -> None:
        if self._pending_newlines and text.strip():
            self._parts.append("\n" * self._pending_newlines)
            if self._main_depth:
                self.main_parts.append("\n" * self._pending_newlines)
            self._pending_newlines = 0
        if not self._pending_newlines:
            self._parts.append(text)
            if self._main_depth:
                self.main_parts.append(text)

    def _break_for(self, tag: str) -> None:
        if tag in _PARAGRAPH_BLOCKS or tag in _HEADINGS:
            self._pending_newlines = 2
        elif tag in _LINE_BLOCKS:
            self._pending_newlines = max(self._pending_newlines, 1)


def html_text(markup: str) -> str:
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    main = "".join(parser.main_parts)
    text = main if main.strip() else parser.text()
    return "\n".join(
        "\t".join(" ".join(cell.split()) for cell in line.strip().split("\t")) for line in text.split("\n")
    )
