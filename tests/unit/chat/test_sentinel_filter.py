"""The no-answer sentinel never reaches the customer: the real ``SentinelFilter`` and ``ProduceReply``,
fed the way models stream (whole, in sub-word pieces, decorated, after some text)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from kalamna.application.chat.answering import (
    AnswerPlan,
    AnswerPolicy,
    ProducedReply,
    ProduceReply,
    SentinelFilter,
)
from kalamna.domain.ai import ChatMessage as ModelMessage
from kalamna.domain.ai import ChatResult, ChatUsage
from kalamna.domain.chat import ChatMessage, MessageRole, ReplyOutcome

FALLBACK = "Sorry, I can't help with that. Please contact us."


def run_filter(pieces: list[str]) -> tuple[str, SentinelFilter]:
    filtering = SentinelFilter()
    out = "".join(filtering.feed(piece) for piece in pieces) + filtering.finish()
    return out, filtering


class ScriptedModel:
    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces

    @property
    def model(self) -> str:
        return "scripted"

    async def complete(
        self, messages: Sequence[ModelMessage], *, temperature: float, max_tokens: int
    ) -> ChatResult:
        raise NotImplementedError

    async def stream(
        self, messages: Sequence[ModelMessage], *, temperature: float, max_tokens: int
    ) -> AsyncIterator[str | ChatUsage]:
        for piece in self.pieces:
            yield piece
        yield ChatUsage(10, len(self.pieces))


async def produce(pieces: list[str]) -> tuple[str, ProducedReply]:
    question = ChatMessage(uuid4(), uuid4(), uuid4(), MessageRole.USER, "q", datetime.now(UTC))
    plan = AnswerPlan(
        session_id=question.session_id,
        organization_id=question.organization_id,
        question=question,
        fallback_message=FALLBACK,
        temperature=0.0,
        max_tokens=100,
        started=time.perf_counter(),
        prompt=[ModelMessage("user", "q")],
    )
    streamed, result = "", None
    async for item in ProduceReply(ScriptedModel(pieces), AnswerPolicy())(plan):  # type: ignore[arg-type]
        if isinstance(item, ProducedReply):
            result = item
        else:
            streamed += item
    assert result is not None
    return streamed, result


NO_ANSWERS = [
    ["[[NO_ANSWER]]"],
    ["[[", "NO", "_ANSWER", "]]"],
    ["[", "[", "NO", "_", "ANS", "WER", "]", "]"],
    ["  ", "[[NO_ANSWER]]", "\n"],
    ["**[[NO_ANSWER]]**"],
    ["[NO_ANSWER]"],
    ["no_answer"],
    ["Sorry", ", I couldn't find that. ", "[[", "NO_ANSWER", "]]"],
]


@pytest.mark.parametrize("pieces", NO_ANSWERS)
async def test_a_no_answer_always_becomes_the_fallback_message(pieces: list[str]) -> None:
    streamed, result = await produce(pieces)
    assert result.outcome is ReplyOutcome.FALLBACK
    assert result.text.endswith(FALLBACK)
    assert streamed == result.text  # the streamed deltas are exactly what is stored
    assert "[[" not in result.text and "NO_ANSWER" not in result.text.upper()
    assert result.sources == []


async def test_the_sentinel_alone_in_pieces_becomes_exactly_the_fallback() -> None:
    streamed, result = await produce(["[[", "NO", "_ANSWER", "]]"])
    assert (streamed, result.text) == (FALLBACK, FALLBACK)


async def test_a_real_answer_streams_unchanged() -> None:
    pieces = ["Refunds ", "take ", "5 ", "days", "."]
    streamed, result = await produce(pieces)
    assert (streamed, result.text, result.outcome) == (
        "Refunds take 5 days.",
        "Refunds take 5 days.",
        ReplyOutcome.ANSWERED,
    )


@pytest.mark.parametrize(
    ("pieces", "visible"),
    [
        (["No", ", we do not ship there."], "No, we do not ship there."),
        (["No"], "No"),
        (["See [1", "] for details."], "See [1] for details."),
        (["Open 9", "–5. [[", "NO_ANSWER", "]]"], "Open 9–5. "),
        (["Open [", "daily]."], "Open [daily]."),
    ],
)
def test_the_filter_passes_text_and_drops_only_the_sentinel(pieces: list[str], visible: str) -> None:
    out, filtering = run_filter(pieces)
    assert out == visible
    assert filtering.sent == visible


def test_a_partial_sentinel_is_held_back_until_it_is_decided() -> None:
    filtering = SentinelFilter()
    assert filtering.feed("Open daily. ") == "Open daily. "
    assert filtering.feed("[[") == ""
    assert filtering.feed("NO") == ""
    assert filtering.feed("_ANSWER") == ""
    assert filtering.feed("]") == ""
    assert filtering.feed("]") == ""
    assert filtering.finish() == ""
    assert filtering.sent == "Open daily. "
