"""The bot's persona and widget settings, one per organization, with defaults from registration on."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from kalamna.domain.errors import InvalidInput
from kalamna.domain.updates import KEEP, Keep, changed, refuse_unknown, unknown_fields

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")

DEFAULT_WELCOME = "Hi! I'm your assistant. Ask me anything about our products and services."
DEFAULT_FALLBACK = (
    "I'm sorry, I couldn't find that in our knowledge base. "
    "Could you rephrase, or leave your contact details so our team can follow up?"
)


@dataclass(slots=True)
class WidgetSettings:
    primary_color: str = "#0F766E"
    position: str = "right"
    allowed_origins: list[str] = field(default_factory=list)


DEFAULT_HANDOVER_MESSAGE = (
    "I'm connecting you with a member of our team. Please stay here; they will reply shortly."
)


@dataclass(slots=True)
class HandoverSettings:
    enabled: bool = True
    after_fallbacks: int = 2  # fallback replies in a row before a person is asked for; 0 = never
    message: str = DEFAULT_HANDOVER_MESSAGE  # what the customer is told while a person is fetched
    # The same per customer language ({"ar": "…"}); ``message`` is the default for any other language.
    messages: dict[str, str] = field(default_factory=dict)

    def message_for(self, language: str) -> str:
        return self.messages.get(language.lower()) or self.message


@dataclass(slots=True)
class BotConfig:
    organization_id: UUID
    updated_at: datetime
    bot_name: str = "Assistant"
    welcome_message: str = DEFAULT_WELCOME
    tone: str = "friendly"
    language: str = "auto"
    instructions: str = ""
    fallback_message: str = DEFAULT_FALLBACK
    temperature: float = 0.2
    max_answer_tokens: int = 512
    top_k: int = 5
    # Hybrid-search score below which the knowledge base is considered silent (fallback, no LLM call).
    min_score: float = 0.15
    suggested_questions: list[str] = field(default_factory=list)
    widget: WidgetSettings = field(default_factory=WidgetSettings)
    handover: HandoverSettings = field(default_factory=HandoverSettings)
    # Fallback message per customer language ({"ar": "…", "en": "…"}); ``fallback_message`` is the
    # default for any other language.
    fallback_messages: dict[str, str] = field(default_factory=dict)

    def updated(self, update: BotConfigUpdate, now: datetime) -> BotConfig:
        """A copy with ``update`` applied, validated (the original is left as it is)."""
        config = replace(
            self,
            **changed(update, skip=("widget", "handover")),
            widget=replace(self.widget, **changed(update.widget)),
            handover=replace(self.handover, **changed(update.handover)),
            updated_at=now,
        )
        config.validate()
        return config

    def fallback_for(self, language: str) -> str:
        """The fallback message in ``language`` when the bot has one, else the default."""
        return self.fallback_messages.get(language.lower()) or self.fallback_message

    def validate(self) -> None:
        problems: list[dict[str, str]] = []

        def bad(key: str, message: str) -> None:
            problems.append({"key": key, "message": message})

        if not 0 <= self.temperature <= 2:
            bad("temperature", "must be between 0 and 2")
        if not 1 <= self.top_k <= 20:
            bad("top_k", "must be between 1 and 20")
        if not 0 <= self.min_score <= 1:
            bad("min_score", "must be between 0 and 1")
        if not 16 <= self.max_answer_tokens <= 4096:
            bad("max_answer_tokens", "must be between 16 and 4096")
        if not _COLOUR.match(self.widget.primary_color):
            bad("widget.primary_color", "must be a colour like #RRGGBB")
        if self.widget.position not in ("left", "right"):
            bad("widget.position", "must be left or right")
        if not self.bot_name.strip():
            bad("bot_name", "must not be empty")
        if not 0 <= self.handover.after_fallbacks <= 20:
            bad("handover.after_fallbacks", "must be between 0 and 20")
        if not self.handover.message.strip():
            bad("handover.message", "must not be empty")
        _check_messages(bad, "handover.messages", self.handover.messages)
        _check_messages(bad, "fallback_messages", self.fallback_messages)
        if problems:
            raise InvalidInput("Some settings are out of range.", extra={"fields": problems})


@dataclass(frozen=True, slots=True)
class WidgetUpdate:
    primary_color: str | Keep = KEEP
    position: str | Keep = KEEP
    allowed_origins: list[str] | Keep = KEEP


@dataclass(frozen=True, slots=True)
class HandoverUpdate:
    enabled: bool | Keep = KEEP
    after_fallbacks: int | Keep = KEEP
    message: str | Keep = KEEP
    messages: dict[str, str] | Keep = KEEP


@dataclass(frozen=True, slots=True)
class BotConfigUpdate:
    """A change to a bot configuration (``BotConfig.updated``): ``KEEP`` leaves a field as it is."""

    bot_name: str | Keep = KEEP
    welcome_message: str | Keep = KEEP
    tone: str | Keep = KEEP
    language: str | Keep = KEEP
    instructions: str | Keep = KEEP
    fallback_message: str | Keep = KEEP
    temperature: float | Keep = KEEP
    max_answer_tokens: int | Keep = KEEP
    top_k: int | Keep = KEEP
    min_score: float | Keep = KEEP
    suggested_questions: list[str] | Keep = KEEP
    fallback_messages: dict[str, str] | Keep = KEEP
    widget: WidgetUpdate = field(default_factory=WidgetUpdate)
    handover: HandoverUpdate = field(default_factory=HandoverUpdate)

    @classmethod
    def of(cls, changes: Mapping[str, Any]) -> BotConfigUpdate:
        """The update with the given fields (``widget`` and ``handover`` as nested mappings); an
        unknown field is ``InvalidInput``."""
        widget = changes.get("widget") or {}
        handover = changes.get("handover") or {}
        refuse_unknown(
            unknown_fields(changes, cls)
            | unknown_fields(widget, WidgetUpdate)
            | unknown_fields(handover, HandoverUpdate)
        )
        flat = {k: v for k, v in changes.items() if k not in ("widget", "handover")}
        return cls(**flat, widget=WidgetUpdate(**widget), handover=HandoverUpdate(**handover))


def _check_messages(bad: Callable[[str, str], None], name: str, messages: dict[str, str]) -> None:
    """Messages per language: at most 20, keyed by a language tag, 1 to 1000 characters each."""
    if len(messages) > 20:
        bad(name, "at most 20 languages")
    for tag, message in messages.items():
        if not _LANGUAGE_TAG.match(tag):
            bad(f"{name}.{tag}", "must be keyed by a language tag such as ar or en")
        elif not message.strip() or len(message) > 1000:
            bad(f"{name}.{tag}", "must be 1 to 1000 characters")
