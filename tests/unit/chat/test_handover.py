"""The conversation state machine (every edge) and the phrase matcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from kalamna.domain.chat import ChatSession, SessionClosed, SessionNotWithBot, SessionStatus
from kalamna.domain.handover import (
    AssignedToSomeoneElse,
    ConversationMode,
    HandoverReason,
    asks_for_person,
    clean_reason,
    normalize_phrase,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
ALICE, BOB = uuid4(), uuid4()


def session(
    mode: ConversationMode = ConversationMode.BOT, assigned_to=None, closed: bool = False
) -> ChatSession:  # type: ignore[no-untyped-def]
    s = ChatSession(
        id=uuid4(),
        organization_id=uuid4(),
        token_hash="h",
        status=SessionStatus.CLOSED if closed else SessionStatus.OPEN,
        created_at=NOW,
        updated_at=NOW,
        mode=mode,
        assigned_to=assigned_to,
    )
    return s


# --- customer asks / automatic trigger -----------------------------------------------------------


def test_bot_to_waiting() -> None:
    s = session()
    s.fallbacks_in_row = 1
    change = s.ask_for_person(HandoverReason.REQUESTED, "billing question", LATER)
    assert (change.before, change.after, change.changed) == (
        ConversationMode.BOT,
        ConversationMode.WAITING,
        True,
    )
    assert (s.mode, s.waiting_since, s.handover_reason, s.fallbacks_in_row) == (
        ConversationMode.WAITING,
        LATER,
        "billing question",
        0,
    )
    assert not s.bot_answers


@pytest.mark.parametrize("mode", [ConversationMode.WAITING, ConversationMode.HUMAN])
def test_asking_again_changes_nothing(mode: ConversationMode) -> None:
    s = session(mode, assigned_to=ALICE if mode is ConversationMode.HUMAN else None)
    change = s.ask_for_person(HandoverReason.ASKED, "", LATER)
    assert not change.changed
    assert s.mode is mode
    assert s.waiting_since is None


def test_closed_refuses_every_transition() -> None:
    for transition in (
        lambda s: s.ask_for_person(HandoverReason.REQUESTED, "", LATER),
        lambda s: s.assign(ALICE, LATER),
        lambda s: s.agent_replies(ALICE, LATER, may_override=True),
        lambda s: s.release(LATER),
        lambda s: s.count_bot_reply(True),
    ):
        with pytest.raises(SessionClosed):
            transition(session(closed=True))


# --- assign ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(ConversationMode))
def test_assign_from_any_mode(mode: ConversationMode) -> None:
    s = session(mode, assigned_to=BOB if mode is ConversationMode.HUMAN else None)
    change = s.assign(ALICE, LATER)
    assert (s.mode, s.assigned_to) == (ConversationMode.HUMAN, ALICE)
    assert change.changed is (mode is not ConversationMode.HUMAN)
    assert s.handover_reason == ("assigned" if mode is ConversationMode.BOT else None)


# --- agent replies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [ConversationMode.BOT, ConversationMode.WAITING])
def test_reply_takes_an_unassigned_conversation(mode: ConversationMode) -> None:
    s = session(mode)
    change = s.agent_replies(ALICE, LATER, may_override=False)
    assert (change.after, s.assigned_to) == (ConversationMode.HUMAN, ALICE)


def test_reply_in_own_conversation_changes_nothing() -> None:
    s = session(ConversationMode.HUMAN, assigned_to=ALICE)
    assert not s.agent_replies(ALICE, LATER, may_override=False).changed
    assert s.assigned_to == ALICE


def test_reply_in_someone_elses_conversation() -> None:
    s = session(ConversationMode.HUMAN, assigned_to=BOB)
    with pytest.raises(AssignedToSomeoneElse) as refused:
        s.agent_replies(ALICE, LATER, may_override=False)
    assert refused.value.code == "conflict"
    assert not s.agent_replies(ALICE, LATER, may_override=True).changed  # an owner may; BOB keeps it
    assert s.assigned_to == BOB


# --- release -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [ConversationMode.WAITING, ConversationMode.HUMAN])
def test_release_back_to_the_bot(mode: ConversationMode) -> None:
    s = session(mode, assigned_to=ALICE if mode is ConversationMode.HUMAN else None)
    s.waiting_since = NOW
    change = s.release(LATER)
    assert change.changed
    assert (s.mode, s.assigned_to, s.waiting_since) == (ConversationMode.BOT, None, None)
    assert s.bot_answers


def test_release_of_a_bot_conversation_changes_nothing() -> None:
    s = session()
    assert not s.release(LATER).changed


# --- fallbacks in a row ---------------------------------------------------------------------------


def test_fallbacks_in_row_are_counted_and_reset() -> None:
    s = session()
    assert s.count_bot_reply(True) == 1
    assert s.fallbacks_trigger_handover(2)
    assert not s.fallbacks_trigger_handover(3)
    assert not s.fallbacks_trigger_handover(0)  # 0 = never
    assert s.count_bot_reply(False) == 0
    assert s.count_bot_reply(True) == 1
    assert s.count_bot_reply(True) == 2


@pytest.mark.parametrize("mode", [ConversationMode.WAITING, ConversationMode.HUMAN])
def test_the_bot_never_answers_while_a_person_is_involved(mode: ConversationMode) -> None:
    s = session(mode)
    assert not s.bot_answers
    with pytest.raises(SessionNotWithBot):
        s.count_bot_reply(False)
    assert not s.fallbacks_trigger_handover(1)


def test_closing_keeps_the_mode() -> None:
    s = session(ConversationMode.HUMAN, assigned_to=ALICE)
    s.close(LATER)
    assert (s.status, s.mode, s.closed_at) == (SessionStatus.CLOSED, ConversationMode.HUMAN, LATER)
    assert not s.bot_answers


# --- phrases ------------------------------------------------------------------------------------------

ASKS = [
    # English
    "Can I talk to a human?",
    "I want to speak with an agent",
    "connect me to a real person please",
    "Agent!",
    "HUMAN PLEASE",
    "Could someone from customer service help me?",
    "I need a representative",
    "let me chat with somebody",
    "transfer me to your staff",
    "live agent",
    # Modern Standard Arabic
    "أريد التحدث مع موظف",
    "أُرِيدُ التَّحَدُّثَ مَعَ مُوَظَّفٍ",  # with harakat
    "هل يمكنني التحدث إلى إنسان؟",
    "أريد خدمة العملاء",
    "موظف لو سمحت",
    "حولني إلى موظف",
    # Gulf
    "ابي اكلم موظف",
    "ابغى اتواصل مع شخص حقيقي",
    # Egyptian
    "عايز اكلم حد",
    "عاوز أتكلم مع موظف",
    # Levantine
    "بدي احكي مع موظف",
    "بدي احكي مع حدا",
]

DOES_NOT_ASK = [
    "How long does express shipping take?",
    "I need someone to deliver on Friday",  # a person, but not to talk to
    "What does your agent program cost?",
    "Is a human-readable invoice available?",
    "كم تكلفة التوصيل السريع؟",
    "هل يمكنني إرجاع المنتج؟",
    "أريد إرجاع الطلب",
    "",
    "   ",
]


@pytest.mark.parametrize("message", ASKS)
def test_phrases_that_ask_for_a_person(message: str) -> None:
    assert asks_for_person(message), message


@pytest.mark.parametrize("message", DOES_NOT_ASK)
def test_phrases_that_do_not(message: str) -> None:
    assert not asks_for_person(message), message


def test_normalisation() -> None:
    assert normalize_phrase("  أُرِيدُ   التَّحَدُّثَ!! ") == "اريد التحدث"
    assert normalize_phrase("Talk-To a HUMAN?") == "talk to a human"
    assert normalize_phrase("خدمـــة") == "خدمه"  # tatweel and ta marbuta


def test_reason_is_trimmed_and_defaulted() -> None:
    assert clean_reason("  my   order  ", "requested") == "my order"
    assert clean_reason(None, "requested") == "requested"
    assert len(clean_reason("x" * 900, "requested")) == 500
