"""Text rules shared by ingestion and search: normalisation for matching, sentence splitting, and the
shape of a document once its text has been extracted. Standard library only."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    """The plain text of an uploaded file. ``content_type`` is the canonical MIME type decided by the
    extractor (never the client's claim); ``pages`` is known for paginated formats (PDF) only."""

    text: str
    content_type: str
    pages: int | None = None


def _arabic_search_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for codepoint in (*range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE)):
        table[codepoint] = None  # harakat, tanween, shadda, sukun, superscript alef, Quranic marks
    table[0x0640] = None  # tatweel
    for invisible in ("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u061c", "\ufeff", "\u00ad"):
        table[ord(invisible)] = None  # zero-width and bidi marks split words invisibly
    for alef in "أإآٱٲٳ":
        table[ord(alef)] = "ا"
    table[ord("ى")] = "ي"  # alef maqsura, written and omitted interchangeably with yeh
    table[ord("ی")] = "ي"  # Farsi yeh, produced by Persian keyboards
    table[ord("ک")] = "ك"  # Keheh (Farsi kaf)
    table[ord("ة")] = "ه"  # ta marbuta
    table[ord("ؤ")] = "و"
    table[ord("ئ")] = "ي"
    for digit in range(10):
        table[0x0660 + digit] = str(digit)  # Arabic-Indic
        table[0x06F0 + digit] = str(digit)  # Eastern Arabic-Indic (Persian, Urdu)
    return table


_SEARCH_TABLE = _arabic_search_table()


def normalize_for_search(text: str) -> str:
    """Fold ``text`` so that spelling variants match: NFKC (which also turns Arabic presentation forms
    into letters), case folding, Arabic orthographic unification (diacritics, tatweel, alef, yeh, ta
    marbuta, hamza seats), ASCII digits, and single spaces. Used on both indexed text and queries."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.translate(_SEARCH_TABLE).split())


# Sentence terminators. Arabic ones end a sentence wherever they appear; Latin ones only before
# whitespace or the end, so "3.5", "example.com" and "v1.2" stay whole.
_ARABIC_TERMINATORS = "؟،؛۔"
_LATIN_TERMINATORS = ".!?…"
_CLOSERS = "\"')]}»”’"
_TERMINATOR_RUN = re.compile(
    f"[{re.escape(_ARABIC_TERMINATORS + _LATIN_TERMINATORS)}]+[{re.escape(_CLOSERS)}]*"
)
_NEWLINES = re.compile(r"\r\n|[\n\r\v\f\u2028\u2029\x85]")
# Words after which a period does not end a sentence ("Dr. Ali", "No. 5", "vs. them").
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "no", "nos", "fig", "figs", "approx"}
    | {"dept", "est", "inc", "ltd", "co", "corp", "ref", "vol", "pp", "ch", "sec", "cf", "al", "ca"}
)


def _is_abbreviation(sentence_so_far: str) -> bool:
    words = sentence_so_far.split()
    if not words:
        return False
    word = words[-1].lstrip("\"'([{«“‘").lower()
    if "." in word:  # "e.g", "i.e", "u.s": the abbreviation's own periods
        return True
    if len(word) == 1 and word.isascii() and word.isalpha():  # an initial: "J. Smith"
        return True
    if len(words) == 1 and word.isdigit() and len(word) <= 3:  # a list number: "1. Open the app"
        return True
    return word in _ABBREVIATIONS


def _line_sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    sentence_start = start
    for match in _TERMINATOR_RUN.finditer(text, start, end):
        run = match.group()
        if not any(char in _ARABIC_TERMINATORS for char in run):
            if match.end() < end and not text[match.end()].isspace():
                continue
            if run.rstrip(_CLOSERS) == "." and _is_abbreviation(text[sentence_start : match.start()]):
                continue
        spans.append((sentence_start, match.end()))
        sentence_start = match.end()
    spans.append((sentence_start, end))
    return spans


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the sentences of ``text``, stripped of surrounding whitespace, each
    keeping its closing punctuation. Lines always end sentences."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    breaks = [(match.start(), match.end()) for match in _NEWLINES.finditer(text)]
    for line_end, next_line_start in [*breaks, (len(text), len(text))]:
        for start, end in _line_sentence_spans(text, line_start, line_end):
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if start < end:
                spans.append((start, end))
        line_start = next_line_start
    return spans


def split_sentences(text: str) -> list[str]:
    """Split on ``. ! ?``, the Arabic ``؟ ، ؛ ۔`` and line breaks, keeping punctuation with its
    sentence and leaving decimals ("3.5") and abbreviations ("e.g.", "Dr.") inside theirs."""
    return [text[start:end] for start, end in sentence_spans(text)]
