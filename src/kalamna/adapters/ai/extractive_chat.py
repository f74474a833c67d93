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
from kalamna.domain.ai import ChatMessage, ChatResult, ChatUsage
from kalamna.domain.text import normalize_for_search, split_sentences
from kalamna.ports.ai import TokenCounter

MODEL_NAME = "kalamna-extractive-v1"

_ENGLISH_STOPWORDS = """
a about above after again against all am an and any are aren as at be because been before being below
between both but by can cannot could couldn did didn do does doesn doing don down during each few for
from further get got had has have having he her here hers herself him himself his how i if in into is
isn it its itself just let me more most my myself no nor not now of off on once only or other ought our
ours ourselves out over own please same shall she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was wasn we were weren
what when where which while who whom why will with won would you your yours yourself yourselves hi
hello hey thanks thank ok okay yes tell know want need like also still much many one really
"""
_ARABIC_STOPWORDS = """
من في على إلى الى عن ما ماذا هل كيف متى أين اين لماذا لم لن لا كم هو هي هم هن أنا انا أنت انت أنتم انتم
نحن هذا هذه ذلك تلك هنا هناك التي الذي الذين اللذين اللتين و أو او ثم بل لكن إن ان أن كان كانت يكون
تكون قد مع كل بعد قبل عند عندي عندكم لدي لديكم لديك أي اي ايضا أيضا بين حتى إذا اذا لو يا مرحبا شكرا
يمكن يمكنني ممكن أريد اريد أود اود منكم عنكم لكم لي لنا به بها فيه فيها عليه عليها منه منها له لها هناك
غير سوف كذلك فقط جدا الان الآن ماهو ماهي وش ايش إيش شو
"""

_WORD = re.compile(r"\w+")
_ARTICLE_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_LIST_MARKER = re.compile(r"^\s*(?:[#>*•·\-–]+|\d{1,3}[.)])\s+")
_MAX_SENTENCES = 3
_COMPANION_RATIO = 0.6  # a further sentence joins the reply if it scores at least this much of the best


def _stem(word: str) -> str:
    if word.isascii():
        if len(word) > 5 and word.endswith("ing"):
            return word[:-3]
        if len(word) > 4 and word.endswith("ies"):
            return word[:-3] + "y"
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            return word[:-1]
        return word
    for prefix in _ARTICLE_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    if len(word) >= 5 and word.endswith("ات"):
        word = word[:-2]
    return word


def _terms(text: str) -> list[str]:
    words = _WORD.findall(normalize_for_search(text))
    return [_stem(word) for word in words if len(word) > 1 or word.isdigit()]


_STOPWORDS = frozenset(_terms(_ENGLISH_STOPWORDS + " " + _ARABIC_STOPWORDS))


def content_terms(text: str) -> set[str]:
    """The meaningful, normalised terms of ``text`` (stopwords removed)."""
    return {term for term in _terms(text) if term not in _STOPWORDS}


@dataclass(frozen=True, slots=True)
class _Sentence:
    order: tuple[int, int]
    text: str
    terms: frozenset[str]
    words: int


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


def _sentences(messages: Sequence[ChatMessage]) -> list[_Sentence]:
    found: list[_Sentence] = []
    seen: set[str] = set()
    for source_index, source in enumerate(read_sources(messages)):
        for sentence_index, raw in enumerate(_whole_sentences(source.text)):
            text = _LIST_MARKER.sub("", raw).strip()
            key = normalize_for_search(text)
            if not text or key in seen:
                continue
            seen.add(key)
            found.append(
                _Sentence(
                    (source_index, sentence_index), text, frozenset(content_terms(text)), len(text.split())
                )
            )
    return found


def extract_answer(messages: Sequence[ChatMessage]) -> str:
    """The reply for ``messages``: one to three source sentences, or ``NO_ANSWER_SENTINEL``."""
    question = content_terms(read_question(messages))
    sentences = _sentences(messages)
    if not question or not sentences:
        return NO_ANSWER_SENTINEL
    total = len(sentences)
    weight = {
        term: math.log(1 + total / max(1, sum(1 for s in sentences if term in s.terms))) for term in question
    }
    question_weight = sum(weight.values())
    scored: list[tuple[float, _Sentence]] = []
    for sentence in sentences:
        shared = question & sentence.terms
        if not shared:
            continue
        coverage = sum(weight[term] for term in shared) / question_weight
        density = len(shared) / max(1, len(sentence.terms))
        short_penalty = 0.5 if sentence.words < 3 else 1.0  # headings and fragments answer nothing
        scored.append(((coverage + 0.1 * density) * short_penalty, sentence))
    if not scored:
        return NO_ANSWER_SENTINEL
    # Headings and fragments ("Opening hours") repeat the question without answering it: use them only
    # when no real sentence matches.
    real = [item for item in scored if item[1].words >= 3]
    scored = real or scored
    scored.sort(key=lambda item: (-item[0], item[1].order))
    best = scored[0][0]
    chosen = [sentence for score, sentence in scored[:_MAX_SENTENCES] if score >= best * _COMPANION_RATIO]
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
