"""Section 7 of the contract: the chat widget's routes (API-key authenticated)."""

from __future__ import annotations

from typing import Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Request, get

from kalamna.application.widget import GetWidgetSettings
from kalamna.domain.errors import NotAuthenticated
from kalamna.web.schemas import WidgetOut


class WidgetConfigOut(msgspec.Struct):
    bot_name: str
    welcome_message: str
    suggested_questions: list[str]
    widget: WidgetOut


def api_key(request: Request[Any, Any, Any]) -> str:
    key = request.headers.get("x-api-key", "").strip()
    if not key:
        raise NotAuthenticated("Send the organization's API key as X-API-Key.")
    return key


class WidgetController(Controller):
    path = "/chat"
    tags = ["chat"]

    @get("/config", summary="Public widget settings")
    @inject
    async def config(
        self,
        request: Request[Any, Any, Any],
        widget_settings: FromDishka[GetWidgetSettings],
    ) -> WidgetConfigOut:
        config = await widget_settings(api_key(request))
        return WidgetConfigOut(
            bot_name=config.bot_name,
            welcome_message=config.welcome_message,
            suggested_questions=list(config.suggested_questions),
            widget=WidgetOut(
                primary_color=config.widget.primary_color,
                position=config.widget.position,
                allowed_origins=list(config.widget.allowed_origins),
            ),
        )
