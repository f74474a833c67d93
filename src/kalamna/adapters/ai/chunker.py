"""Token-aware chunking that follows the document's own structure.

Text is cut at Markdown headings first (a chunk never spans two sections, and carries its section's
heading path), then packed sentence by sentence up to the token budget, preferring to end a chunk at a
paragraph break. Sentences longer than the budget are cut by tokens, at a space where one is near.
Consecutive chunks of a section overlap by whole trailing sentences of the previous chunk (or, when
its last sentence is too long, by its last words). Every chunk's body is a verbatim slice of the
source, so lists, tables and code keep their line breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from kalamna.adapters.ai.tokens import TiktokenCounter
from kalamna.domain.chunk import Chunk
from kalamna.domain.text import normalize_for_search, sentence_spans

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_CODE_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
_HEADING_SEPARATOR = " > "
MIN_SECTION_TOKENS = 16  # a section body shorter than this is merged into its neighbour

# Strength of the boundary in front of a piece: where a chunk may best end.
_HARD_CUT, _CLAUSE, _SENTENCE, _PARAGRAPH = 0, 1, 2, 3
_CLAUSE_ENDINGS = ("،", "؛")  # split_sentences cuts at Arabic commas and semicolons too


@dataclass(frozen=True, slots=True)
class _Section:
    headings: tuple[str, ...]
    body: str


@dataclass(frozen=True, slots=True)
class _Piece:
    start: int
    end: int
    tokens: int
    boundary: int
    gap_tokens: int  # separator before it when joined to the previous piece ("\n" costs a token)


def _sections(text: str) -> list[_Section]:
    """Split Markdown-ish text at ATX headings (``#`` … ``######``), ignoring ``#`` in code fences."""
    sections: list[_Section] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []
    fence: str | None = None

    def flush() -> None:
        joined = "\n".join(body).strip()
        if joined:
            sections.append(_Section(tuple(heading for _, heading in path), joined))
        body.clear()

    for line in text.split("\n"):
        fence_match = _CODE_FENCE.match(line)
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
        elif fence_match:
            fence = fence_match.group(1)
        elif heading := _ATX_HEADING.match(line):
            flush()
            level = len(heading.group(1))
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, heading.group(2).strip()))
            continue
        body.append(line)
    flush()
    return sections


class TokenChunker:
    """Implements ``kalamna.ports.knowledge_processing.Chunker``. Every chunk, title and heading
    prefix included, is at most ``target_tokens`` long (cl100k tokens)."""

    def __init__(
        self,
        target_tokens: int = 400,
        overlap_tokens: int = 60,
        counter: TiktokenCounter | None = None,
    ) -> None:
        if target_tokens < 32:
            raise ValueError("target_tokens must be at least 32")
        if not 0 <= overlap_tokens <= target_tokens // 2:
            raise ValueError("overlap_tokens must be between 0 and half of target_tokens")
        self._target = target_tokens
        self._overlap = overlap_tokens
        self._counter = counter or TiktokenCounter()

    def chunk(self, title: str, text: str) -> list[Chunk]:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text.strip():
            return []
        title_line = self._counter.truncate(" ".join(title.split()), self._target // 4)
        chunks: list[Chunk] = []
        for section in self._merge_tiny(_sections(text), title_line):
            header = self._header(title_line, section.headings)
            for body in self._pack(header, section.body):
                content = header + body
                chunks.append(Chunk(content, self._counter.count(content), len(chunks)))
        return chunks

    def _merge_tiny(self, sections: list[_Section], title_line: str) -> list[_Section]:
        """A lead-in of a few tokens (text before the first heading, or under a heading that only
        repeats the title) or a section body of one or two words is no passage of its own: such a
        generic chunk is close to every query. It joins the next section (the previous one at the
        end). A short section under its own heading ("Refunds: five days.") stays."""
        title = normalize_for_search(title_line)

        def tiny(section: _Section) -> bool:
            lead_in = all(normalize_for_search(h) == title for h in section.headings)
            return len(section.body.split()) < 3 or (
                lead_in and self._counter.count(section.body) < MIN_SECTION_TOKENS
            )

        merged: list[_Section] = []
        carry: _Section | None = None
        for section in sections:
            if carry is not None:
                section = _Section(section.headings, carry.body + "\n\n" + section.body)
                carry = None
            if tiny(section):
                carry = section
                continue
            merged.append(section)
        if carry is not None:
            if merged:
                last = merged.pop()
                merged.append(_Section(last.headings, last.body + "\n\n" + carry.body))
            else:
                merged.append(carry)
        return merged

    def _header(self, title_line: str, headings: tuple[str, ...]) -> str:
        if headings and title_line and normalize_for_search(headings[0]) == normalize_for_search(title_line):
            headings = headings[1:]  # the document's own "# Title" repeats the entry title
        lines = [title_line] if title_line else []
        if headings:
            path = _HEADING_SEPARATOR.join(" ".join(heading.split()) for heading in headings)
            lines.append(self._counter.truncate(path, self._target // 8))
        return "\n".join(lines) + "\n\n" if lines else ""

    def _pack(self, header: str, body: str) -> list[str]:
        """Greedy packing of the section's pieces into chunk bodies of at most the budget."""
        budget = self._target - self._counter.count(header) - 1
        pieces = self._pieces(body, budget)
        bodies: list[str] = []
        overlap_start: int | None = None
        overlap_cost = 0
        first = 0
        while first < len(pieces):
            last = self._fill(pieces, first, budget - overlap_cost)
            if last == first:  # the next piece does not fit beside the overlap: drop the overlap
                overlap_start, overlap_cost = None, 0
                last = first + 1
            while True:  # the per-piece estimate can be short by a few tokens: check the real count
                start = pieces[first].start if overlap_start is None else overlap_start
                candidate = body[start : pieces[last - 1].end]
                excess = self._counter.count(header + candidate) - self._target
                if excess <= 0:
                    break
                if last - first > 1:
                    last -= 1
                elif overlap_start is not None:
                    overlap_start, overlap_cost = None, 0
                else:
                    piece = pieces[first]
                    smaller = self._hard_cuts(
                        body, piece.start, piece.end, max(1, piece.tokens - excess - 2), piece.boundary
                    )
                    if len(smaller) == 1:  # cannot shrink further (a lone unsplittable character)
                        break
                    pieces[first : first + 1] = [
                        replace(smaller[0], gap_tokens=piece.gap_tokens),
                        *smaller[1:],
                    ]
            bodies.append(candidate)
            if last < len(pieces):
                overlap_start, overlap_cost = self._overlap_after(body, pieces, first, last)
            first = last
        return bodies

    def _fill(self, pieces: list[_Piece], first: int, room: int) -> int:
        """Index after the last piece that fits in ``room`` tokens, moved back to a stronger break
        (paragraph, else sentence end) when that still fills at least half of the room."""
        used = 0
        last = first
        ends_at: list[int] = []
        while last < len(pieces):
            cost = pieces[last].tokens + (pieces[last].gap_tokens if last > first else 0)
            if used + cost > room:
                break
            used += cost
            ends_at.append(used)
            last += 1
        if last == len(pieces):
            return last
        for strength in range(_PARAGRAPH, pieces[last].boundary, -1):
            for index in range(last - 1, first, -1):
                if ends_at[index - first - 1] < room // 2:
                    break
                if pieces[index].boundary == strength:
                    return index
        return last

    def _overlap_after(
        self, body: str, pieces: list[_Piece], first: int, last: int
    ) -> tuple[int | None, int]:
        """Start and cost of the text the next chunk repeats: whole trailing sentences of this chunk
        (never all of it), else the last words of its final sentence."""
        if self._overlap == 0:
            return None, 0
        cost = 0
        index = last
        while index - 1 > first:
            piece = pieces[index - 1]
            added = piece.tokens + (pieces[index].gap_tokens if index < last else 0)
            if cost + added > self._overlap:
                break
            cost += added
            index -= 1
        if index < last:
            return pieces[index].start, cost + pieces[last].gap_tokens
        tail_start, tail_cost = self._tail(body, pieces[last - 1])
        return tail_start, tail_cost + pieces[last].gap_tokens if tail_start is not None else 0

    def _tail(self, body: str, piece: _Piece) -> tuple[int | None, int]:
        """The shortest-start suffix of ``piece`` that fits the overlap, starting at a word."""
        starts = [
            position
            for position in range(piece.start + 1, piece.end)
            if body[position - 1].isspace() and not body[position].isspace()
        ] or list(range(piece.start + 1, piece.end))
        low, high = 0, len(starts)
        while low < high:  # first start whose suffix fits; suffixes shrink as the start moves right
            middle = (low + high) // 2
            if self._counter.count(body[starts[middle] : piece.end]) <= self._overlap:
                high = middle
            else:
                low = middle + 1
        if low == len(starts):
            return None, 0
        return starts[low], self._counter.count(body[starts[low] : piece.end])

    def _pieces(self, body: str, budget: int) -> list[_Piece]:
        pieces: list[_Piece] = []
        paragraph_start = 0
        paragraph_ends = [(m.start(), m.end()) for m in _BLANK_LINES.finditer(body)]
        for paragraph_end, next_start in [*paragraph_ends, (len(body), len(body))]:
            boundary = _PARAGRAPH
            for start, end in sentence_spans(body[paragraph_start:paragraph_end]):
                start, end = start + paragraph_start, end + paragraph_start
                tokens = self._counter.count(body[start:end])
                if tokens <= budget:
                    pieces.append(_Piece(start, end, tokens, boundary, 0))
                else:
                    pieces.extend(self._hard_cuts(body, start, end, budget, boundary))
                boundary = _CLAUSE if body[start:end].endswith(_CLAUSE_ENDINGS) else _SENTENCE
            paragraph_start = next_start
        return [
            _Piece(p.start, p.end, p.tokens, p.boundary, int("\n" in body[pieces[i - 1].end : p.start]))
            if i
            else p
            for i, p in enumerate(pieces)
        ]

    def _hard_cuts(self, body: str, start: int, end: int, budget: int, boundary: int) -> list[_Piece]:
        """Cut ``body[start:end]`` into pieces of at most ``budget`` tokens, at a space when one falls
        in the last fifth of the cut."""
        cuts: list[_Piece] = []
        position = start
        while position < end:
            window = budget * 8
            while True:
                text = body[position : min(end, position + window)]
                prefix = self._counter.truncate(text, budget)
                if len(prefix) < len(text) or position + window >= end:
                    break
                window *= 2
            if position + len(prefix) < end:
                space = max(prefix.rfind(" "), prefix.rfind("\n"), prefix.rfind("\t"))
                if space > len(prefix) * 4 // 5:
                    prefix = prefix[:space]
            prefix = prefix.rstrip() or body[position]
            gap = 1 if cuts and "\n" in body[cuts[-1].end : position] else 0
            cuts.append(_Piece(position, position + len(prefix), self._counter.count(prefix), boundary, gap))
            boundary = _HARD_CUT
            position += len(prefix)
            while position < end and body[position].isspace():
                position += 1
        return cuts
