"""Human handover: a conversation's mode, the phrases that ask for a person, and the events.

A conversation (a widget chat session) has a ``status`` (open, closed) and a ``mode``:

- ``bot``: the bot answers the customer;
- ``waiting``: a person was asked for; nobody has taken it yet; the bot is silent;
- ``human``: an employee took it; the bot is silent.

The transitions are methods of ``ChatSession`` (``domain.chat``); this module holds what they
share: the modes, the reasons, and the phrase matcher. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from kalamna.domain.errors import Conflict
from kalamna.domain.text import normalize_for_search


class ConversationMode(StrEnum):
    BOT = "bot"
    WAITING = "waiting"
    HUMAN = "human"


class HandoverReason(StrEnum):
    REQUESTED = "requested"  # the customer pressed "talk to a person" (POST /handover)
    ASKED = "asked"  # a message asked for a person (the phrase matcher)
    FALLBACKS = "fallbacks"  # ``handover.after_fallbacks`` fallback replies in a row
    ASSIGNED = "assigned"  # an employee took a conversation the bot was handling


class HandoverDisabled(Conflict):
    default_detail = "Talking to a person is not available for this chat."


class AssignedToSomeoneElse(Conflict):
    default_detail = "This conversation is assigned to another employee."


MAX_REASON_CHARS = 500


def clean_reason(reason: str | None, default: str) -> str:
    text = " ".join((reason or "").split())[:MAX_REASON_CHARS]
    return text or default


# --- The phrase matcher ------------------------------------------------------------------------
#
# The message is folded by ``normalize_for_search`` (case, Arabic alef/yeh/ta marbuta/hamza forms,
# diacritics, tatweel, digits), punctuation becomes spaces, and Arabic clitics (و, ف, ب, ل, ال, لل)
# are tried off each word. It asks for a person when
#   1. it has a "contact" verb (talk, speak, تكلم, احكي, ...) followed within a few words by a
#      person word (human, agent, موظف, حد, ...), or
#   2. it has a "want" verb (want, need, اريد, ابي, عايز, بدي, ...) followed by a strong person word
#      (human, agent, representative, موظف, انسان, ...) — "I need someone to deliver" does not count, or
#   3. the whole message is a person word with at most a polite word ("agent please", "موظف لو سمحت"), or
#   4. it contains a fixed phrase ("live agent", "real person", "customer service", "خدمه العملاء").

_WINDOW = 4

_EN_CONTACT = frozenset(
    [
        "talk",
        "talking",
        "speak",
        "speaking",
        "chat",
        "chatting",
        "connect",
        "transfer",
        "escalate",
        "reach",
        "contact",
        "call",
    ]
)
_EN_WANT = frozenset(["want", "wanna", "need", "like", "get", "give", "prefer", "request"])
_EN_STRONG = frozenset(
    [
        "human",
        "humans",
        "agent",
        "agents",
        "representative",
        "representatives",
        "rep",
        "operator",
        "person",
        "people",
        "employee",
        "staff",
        "supervisor",
        "manager",
    ]
)
_EN_WEAK = frozenset(["someone", "somebody", "anyone", "anybody"])
_EN_POLITE = frozenset(["please", "pls", "plz", "now", "a", "an", "the", "real", "live"])
_EN_PHRASES = (
    "live agent",
    "live person",
    "live chat",
    "real person",
    "real human",
    "human agent",
    "human being",
    "customer service",
    "customer support agent",
)

# Arabic, folded: أ/إ/آ → ا, ة → ه, ى → ي. Modern Standard Arabic and the Gulf, Egyptian and
# Levantine ways to say "I want to talk to someone".
_AR_CONTACT = frozenset(
    [
        "تحدث",
        "اتحدث",
        "يتحدث",
        "نتحدث",
        "التحدث",
        "حديث",
        "تكلم",
        "اتكلم",
        "يتكلم",
        "نتكلم",
        "التكلم",
        "اكلم",
        "كلم",
        "كلمني",
        "كلموني",
        "احكي",
        "نحكي",
        "حكي",
        "الحكي",
        "احچي",
        "اتواصل",
        "تواصل",
        "التواصل",
        "وصلني",
        "وصلوني",
        "حولني",
        "حولوني",
        "حول",
        "تحويل",
        "اكلمكم",
    ]
)
_AR_WANT = frozenset(
    [
        "اريد",
        "اريده",
        "نريد",
        "ابي",
        "ابغي",
        "ابغا",
        "ابغى",
        "عايز",
        "عاوز",
        "عايزه",
        "بدي",
        "بدنا",
        "ودي",
        "محتاج",
        "احتاج",
        "ممكن",
    ]
)
_AR_STRONG = frozenset(
    [
        "موظف",
        "موظفه",
        "موظفين",
        "الموظف",
        "انسان",
        "بشر",
        "بشري",
        "انسانه",
        "مندوب",
        "ممثل",
        "مسؤول",
        "مسئول",
        "مدير",
        "الدعم",
        "وكيل",
        "شخص",
        "شخصا",
        "حقيقي",
    ]
)
_AR_WEAK = frozenset(["حد", "احد", "حدا", "واحد"])
_AR_POLITE = frozenset(
    ["لو", "سمحت", "سمحتي", "من", "فضلك", "فضلك", "رجاء", "ارجوك", "الله", "يخليك", "بليز", "اذا", "ممكن"]
)
_AR_PHRASES = ("خدمه العملاء", "خدمه عملاء", "الدعم الفني", "شخص حقيقي", "موظف حقيقي", "انسان حقيقي")
_AR_PREFIXES = ("وال", "بال", "فال", "لل", "ال", "و", "ف", "ب", "ل")

_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)


def normalize_phrase(text: str) -> str:
    """Fold ``text`` for matching: case, Arabic letter forms and marks, punctuation, spaces."""
    return " ".join(_PUNCTUATION.sub(" ", normalize_for_search(text)).split())


def _forms(word: str) -> set[str]:
    forms = {word}
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            forms.add(word[len(prefix) :])
    return forms


def _is(word: str, vocabulary: frozenset[str]) -> bool:
    return bool(_forms(word) & vocabulary)


def _followed_by(words: list[str], verbs: frozenset[str], nouns: frozenset[str]) -> bool:
    for i, word in enumerate(words):
        if _is(word, verbs) and any(_is(w, nouns) for w in words[i + 1 : i + 1 + _WINDOW]):
            return True
    return False


def asks_for_person(message: str) -> bool:
    """Does this customer message ask to talk to a person? English and Arabic (MSA and dialects)."""
    text = normalize_phrase(message)
    if not text:
        return False
    padded = f" {text} "
    if any(f" {p} " in padded for p in (*_EN_PHRASES, *_AR_PHRASES)):
        return True
    words = text.split()
    strong = _EN_STRONG | _AR_STRONG
    everyone = strong | _EN_WEAK | _AR_WEAK
    if _followed_by(words, _EN_CONTACT | _AR_CONTACT, everyone):
        return True
    if _followed_by(words, _EN_WANT | _AR_WANT, strong):
        return True
    polite = _EN_POLITE | _AR_POLITE
    rest = [w for w in words if not _is(w, strong)]
    return len(rest) < len(words) and all(w in polite for w in rest) and len(words) <= 4


@dataclass(frozen=True, slots=True)
class ModeChange:
    """What a transition did: the mode before and after (equal when nothing changed)."""

    before: ConversationMode
    after: ConversationMode

    @property
    def changed(self) -> bool:
        return self.before is not self.after


@dataclass(frozen=True, slots=True)
class ConversationFilters:
    """The staff list's filters; ``None`` = any."""

    status: str | None = None
    mode: ConversationMode | None = None
    assigned_to: UUID | None = None
    text: str | None = None  # folded by ``normalize_for_search``: matched against message text
    starts_at: datetime | None = None  # conversations started at or after
    ends_before: datetime | None = None  # ... and before
