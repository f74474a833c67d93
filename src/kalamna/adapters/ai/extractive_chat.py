"""An offline, deterministic "language model" that answers by quoting the knowledge base.

It reads the numbered sources and the customer's latest message out of a prompt built by
:class:`kalamna.application.chat.prompt.PromptBuilder`, scores every source sentence by how much of
the question it covers (normalised words: case, Arabic diacritics, tatweel, alef/yeh/ta-marbuta forms,
a light stemmer, English and Arabic stopwords removed, rarer words weighing more), and replies with
the best one to three sentences in the order they appear in the sources. Nothing is invented: every
word of a reply comes from the context. When no sentence shares a meaningful word with the question
it replies with exactly ``NO_ANSWER_SENTINEL``.

No network, no model weights: it is the default chat model when no OpenAI-compatible endpoint is
configured, and a stable stand-in for tests and benchmarks.
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from kalamna.application.chat.prompt import (
    NO_ANSWER_SENTINEL,
    estimate_prompt_tokens,
    read_question,
    read_sources,
)
from kalamna.domain import terms
from kalamna.domain.ai import ChatMessage, ChatResult, ChatUsage
from kalamna.domain.text import normalize_for_search, split_sentences
from kalamna.ports.ai import TokenCounter

MODEL_NAME = "kalamna-extractive-v1"

_LIST_MARKER = re.compile(r"^\s*(?:[#>*•·\-–]+|\d{1,3}[.)])\s+")
_TERMINAL = (".", "!", "…", "۔", ")", "»", '"', "”")
_MAX_SENTENCES = 3
_COMPANION_RATIO = 0.5  # a further sentence of the same source joins if it scores this much of the best
_CLOSE_RATIO = 0.9  # … and adds a question term, or scores at least this much of it
# Abstention: the best sentence must cover at least this share of the question's meaningful terms,
# weighted by rarity (terms that no source mentions weigh the most). Measured on tests/quality.
MIN_COVERAGE = 0.45
_TITLE_CREDIT = 0.5  # a question term found only in the source's title counts half
_QUANTITY_QUESTION = re.compile(
    r"\b(?:how (?:long|much|many|soon|fast|early|late)|when|what time|what age|until|price|cost|fee)\b"
    r"|(?:^|\s)(?:كم|بكم|بكام|متى|امتى|إمتى|قد ايه|قد إيه|سعر|تكلفة|رسوم|مدة|كام)(?:\s|$|؟)",
    re.IGNORECASE,
)
_QUANTITY = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|ten|twelve|free|noon|midnight)\b|مجان|ساعة|يوم|أيام|شهر",
    re.IGNORECASE,
)
_QUANTITY_BONUS = 1.25  # "how long / how much / when" questions prefer a sentence that states one
_NUMBER_WEIGHT = 0.3
_RANK_STEP = 0.08  # each lower-ranked source's sentences lose this much (down to 0.6)


def content_terms(text: str) -> set[str]:
    """The meaningful, normalised, stemmed terms of ``text`` (stopwords removed)."""
    return set(terms.content_terms(text))


@dataclass(frozen=True, slots=True)
class _Sentence:
    order: tuple[int, int]
    text: str
    terms: frozenset[str]
    title_terms: frozenset[str]
    words: int
    answer_like: bool  # not a heading, a lead-in ("Our plans:") or an FAQ question line


def _whole_sentences(text: str) -> list[str]:
    """Sentences for quoting: a clause that ends with an Arabic comma or semicolon (which the chunker
    treats as a break) is joined to what follows, so an answer never stops mid-sentence."""
    merged: list[str] = []
    for piece in split_sentences(text):
        if merged and merged[-1].rstrip().endswith(("،", "؛")):
            merged[-1] = merged[-1].rstrip() + " " + piece.strip()
        else:
            merged.append(piece)
    return merged


def _answer_like(text: str) -> bool:
    stripped = text.rstrip()
    if stripped.endswith(("?", "؟", ":")):
        return False  # an FAQ question line, or a lead-in without its items
    words = len(stripped.split())
    return words >= 3 and (stripped.endswith(_TERMINAL) or words >= 6 or any(c.isdigit() for c in stripped))


def _sentences(messages: Sequence[ChatMessage]) -> list[_Sentence]:
    found: list[_Sentence] = []
    seen: set[str] = set()
    for source_index, source in enumerate(read_sources(messages)):
        title_terms = frozenset(content_terms(source.title))
        for sentence_index, raw in enumerate(_whole_sentences(source.text)):
            text = _LIST_MARKER.sub("", raw).strip()
            key = normalize_for_search(text)
            if not text or key in seen or raw.lstrip().startswith("#"):
                continue
            seen.add(key)
            found.append(
                _Sentence(
                    (source_index, sentence_index),
                    text,
                    frozenset(content_terms(text)),
                    title_terms,
                    len(text.split()),
                    _answer_like(text),
                )
            )
    return found


_ARABIC_VERB_PREFIXES = "اتين"  # present tense: أحصل / تحصل / يحصل / نحصل


def _near(a: str, b: str) -> bool:
    """One edit apart (insert, delete, substitute or swap two letters): typos of longer words; for
    Arabic also another present-tense prefix (أحصل / تحصل)."""
    if abs(len(a) - len(b)) > 1 or min(len(a), len(b)) < 4:
        return False
    if a[0] != b[0]:
        return (
            len(a) == len(b)
            and a[1:] == b[1:]
            and a[0] in _ARABIC_VERB_PREFIXES
            and b[0] in _ARABIC_VERB_PREFIXES
        )
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _alternatives(question: list[str], vocabulary: set[str]) -> dict[str, frozenset[str]]:
    """Each question term with what may stand for it in the sources: lexicon equivalents (the other
    language, dialect) and, for a term no source has, a source word one typo away."""
    found: dict[str, frozenset[str]] = {}
    for term in question:
        options = {term, *terms.equivalents(term)}
        if term.endswith("in") and term.isascii():
            options.add(terms.stem(term + "g"))  # "parkin" for "parking"
        if not options & vocabulary and not term.isdigit():
            options |= {word for word in vocabulary if _near(term, word)}
        found[term] = frozenset(options)
    return found


def extract_answer(messages: Sequence[ChatMessage]) -> str:
    """The reply for ``messages``: one to three source sentences, or ``NO_ANSWER_SENTINEL`` when no
    sentence covers enough of the question (``MIN_COVERAGE``)."""
    question_text = read_question(messages)
    if terms.looks_like_arabizi(question_text):
        question_text = terms.arabizi_to_arabic(question_text)  # match its Arabic reading
    question = terms.content_terms(question_text)
    wants_quantity = bool(_QUANTITY_QUESTION.search(question_text))
    sentences = _sentences(messages)
    if not question or not sentences:
        return NO_ANSWER_SENTINEL
    vocabulary = {t for s in sentences for t in s.terms | s.title_terms}
    options = _alternatives(question, vocabulary)
    total = len(sentences)
    # Rarity: a term few sentences have weighs more; one that none has weighs the most (the
    # question is about something the sources do not mention). A number weighs little.
    weight = {
        term: math.log(1 + total / (0.5 + sum(1 for s in sentences if options[term] & s.terms)))
        * (_NUMBER_WEIGHT if term.isdigit() else 1.0)
        for term in question
    }
    question_weight = sum(weight.values())
    scored: list[tuple[float, float, _Sentence]] = []
    for sentence in sentences:
        covered = 0.0
        shared = 0
        for term in question:
            if options[term] & sentence.terms:
                covered += weight[term]
                shared += 1
            elif options[term] & sentence.title_terms:
                covered += _TITLE_CREDIT * weight[term]
        if not shared:
            continue
        coverage = covered / question_weight
        density = shared / max(1, len(sentence.terms))
        rank = max(0.6, 1.0 - _RANK_STEP * sentence.order[0])
        bonus = _QUANTITY_BONUS if wants_quantity and _QUANTITY.search(sentence.text) else 1.0
        scored.append(((coverage + 0.1 * density) * rank * bonus, coverage, sentence))
    # Headings, lead-ins and FAQ question lines repeat the question without answering it.
    scored = [item for item in scored if item[2].answer_like]
    if not scored:
        return NO_ANSWER_SENTINEL
    scored.sort(key=lambda item: (-item[0], item[2].order))
    best_score, best_coverage, best = scored[0]
    if best_coverage < MIN_COVERAGE:
        return NO_ANSWER_SENTINEL
    # Companions come from the same source and either add a question term the reply lacks so far
    # or score nearly as well as the best.
    chosen = [best]
    have = {term for term in question if options[term] & best.terms}
    for score, _, sentence in scored[1:]:
        if len(chosen) == _MAX_SENTENCES or score < best_score * _COMPANION_RATIO:
            break
        adds = {term for term in question if options[term] & sentence.terms} - have
        if sentence.order[0] == best.order[0] and (adds or score >= best_score * _CLOSE_RATIO):
            chosen.append(sentence)
            have |= adds
    chosen.sort(key=lambda sentence: sentence.order)
    return " ".join(sentence.text for sentence in chosen)


def _pieces(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


class ExtractiveChatModel:
    """Implements ``kalamna.ports.ai.ChatModel`` without a network or a model; deterministic."""

    def __init__(self, tokens: TokenCounter) -> None:
        self._tokens = tokens

    @property
    def model(self) -> str:
        return MODEL_NAME

    def _reply(self, messages: Sequence[ChatMessage], max_tokens: int) -> tuple[str, ChatUsage]:
        text = extract_answer(messages)
        if text != NO_ANSWER_SENTINEL and self._tokens.count(text) > max_tokens:
            text = self._tokens.truncate(text, max_tokens).rstrip()
        usage = ChatUsage(estimate_prompt_tokens(self._tokens, messages), self._tokens.count(text))
        return text, usage

    async def complete(
        self, messages: Sequence[ChatMessage], *, temperature: float, max_tokens: int
    ) -> ChatResult:
        text, usage = self._reply(messages, max_tokens)
        return ChatResult(text=text, usage=usage, model=MODEL_NAME)

    async def stream(
        self, messages: Sequence[ChatMessage], *, temperature: float, max_tokens: int
    ) -> AsyncIterator[str | ChatUsage]:
        text, usage = self._reply(messages, max_tokens)
        for piece in _pieces(text):
            yield piece
        yield usage

    async def aclose(self) -> None:
        return None
