"""``kalamna dev`` only: seed a demo organization once and serve ``GET /demo`` with its widget."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from html import escape
from typing import Any

from dishka import Provider, Scope, provide
from litestar import Request, Response, get
from litestar.params import FromQuery
from litestar.types import ControllerRouterHandler

from kalamna.application.chat.sessions import WidgetAccess
from kalamna.application.demo import DemoContent, SeedDemo
from kalamna.config import Settings
from kalamna.di import make_container
from kalamna.domain.errors import DomainError
from kalamna.web.controllers.pages import widget_version

DEMO = DemoContent(
    organization_name="Nile Coffee Roasters",
    owner_email="owner@demo.kalamna.dev",
    owner_name="Demo Owner",
    bot_name="Nour",
    welcome_message=(
        "Hi, I'm Nour from Nile Coffee! Ask me about our cafés, delivery or returns. "
        "أهلًا! يمكنك سؤالي بالعربية أيضًا."
    ),
    suggested_questions=[
        "What are your opening hours?",
        "How much does delivery cost?",
        "ما هي سياسة الإرجاع؟",
    ],
    entries=[
        (
            "Opening hours",
            "Our opening hours: the Zamalek café in Cairo is open every day from 8 am to 11 pm. "
            "The Alexandria café on the Corniche is open from 9 am to midnight. "
            "On public holidays both cafés open at 10 am.",
        ),
        (
            "Delivery",
            "We deliver coffee across Egypt. Delivery inside Cairo and Giza takes one to two working days "
            "and costs 50 EGP. Delivery to other governorates takes three to five working days and costs "
            "80 EGP. Orders above 1000 EGP are delivered for free.",
        ),
        (
            "Returns and refunds",
            "Unopened coffee bags can be returned within 14 days of delivery for a full refund. "
            "Opened bags cannot be returned unless the coffee arrived damaged. "
            "Refunds reach your card within 7 working days.",
        ),
        (
            "سياسة الإرجاع",
            "سياسة الإرجاع: يمكن إرجاع أكياس القهوة غير المفتوحة خلال 14 يومًا من الاستلام "
            "واسترداد المبلغ كاملًا. "
            "لا يمكن إرجاع الأكياس المفتوحة إلا إذا وصلت القهوة تالفة. "
            "يصل المبلغ المسترد إلى بطاقتك خلال 7 أيام عمل.",
        ),
        (
            "ساعات العمل والتوصيل",
            "ساعات العمل: فرع الزمالك في القاهرة مفتوح يوميًا من الثامنة صباحًا حتى الحادية عشرة مساءً. "
            "نوصل القهوة إلى جميع محافظات مصر، ويستغرق التوصيل داخل القاهرة والجيزة من يوم إلى يومين "
            "وتكلفته 50 جنيهًا.",
        ),
    ],
)


class DemoProvider(Provider):
    scope = Scope.REQUEST
    seed = provide(SeedDemo)


@dataclass(frozen=True, slots=True)
class DemoInfo:
    api_key: str
    owner_email: str
    owner_password: str | None  # only on the start that created the organization


async def ensure_demo(settings: Settings) -> DemoInfo:
    """Reuse the key kept in ``data_dir/demo.json`` while it works; else seed (or re-key) the demo."""
    path = settings.data_dir / "demo.json"
    container = make_container(settings, DemoProvider())
    try:
        if path.is_file():
            stored = json.loads(path.read_text(encoding="utf-8"))
            try:
                async with container() as scope:
                    await (await scope.get(WidgetAccess))(str(stored.get("api_key", "")))
                return DemoInfo(stored["api_key"], DEMO.owner_email, None)
            except DomainError:
                pass  # the database was reset, or the key was rotated: seed again
        password = secrets.token_urlsafe(12)
        async with container() as scope:
            seeded = await (await scope.get(SeedDemo))(DEMO, password)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"organization_id": str(seeded.organization_id), "api_key": seeded.api_key}, fh)
        return DemoInfo(seeded.api_key, DEMO.owner_email, password if seeded.created else None)
    finally:
        await container.close()


DEMO_STYLE = """
body{margin:0;font:17px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans Arabic",sans-serif;
color:#2b1d14;background:#fbf7f2}
header{background:#3b2417;color:#fbe9d7;padding:20px 8vw}
header b{font-size:22px}
section{padding:28px 8vw;max-width:560px}
h1{font-size:34px;line-height:1.2;margin:0 0 12px}
pre{background:#fff;border:1px solid #e6d9cc;border-radius:10px;padding:14px;font-size:13px;
white-space:pre-wrap;word-break:break-all;
direction:ltr;text-align:left}
a{color:#0F766E}
.note{font-size:14px;color:#6b5a4e}
@media (min-width:1000px){html[dir=rtl] section{margin-right:380px}
html[dir=rtl] header{padding-right:calc(8vw + 380px)}}
"""

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Fresh Egyptian coffee, roasted in Cairo",
        "lead": "This is a demo shop. Open the chat in the corner and ask Nour about opening hours, "
        "delivery or returns, in English or Arabic.",
        "paste": "To add this assistant to your own website, paste this snippet before </body>:",
        "other": "عرض الصفحة بالعربية",
        "docs": "API documentation",
    },
    "ar": {
        "title": "قهوة مصرية طازجة، محمصة في القاهرة",
        "lead": "هذا متجر تجريبي. افتح المحادثة في الزاوية واسأل نور عن ساعات العمل أو التوصيل أو الإرجاع.",
        "paste": "لإضافة هذا المساعد إلى موقعك، الصق هذا المقطع قبل ‎</body>‎:",
        "other": "View this page in English",
        "docs": "توثيق الواجهة البرمجية",
    },
}


def demo_handlers(info: DemoInfo) -> list[ControllerRouterHandler]:
    @get("/demo", include_in_schema=False, sync_to_thread=False)
    def demo_page(request: Request[Any, Any, Any], lang: FromQuery[str] = "en") -> Response[str]:
        language = "ar" if lang == "ar" else "en"
        text = TEXT[language]
        base = str(request.base_url).rstrip("/")
        snippet = f'<script src="{base}/widget.js" data-api-key="{info.api_key}" async></script>'
        other_label, other_lang = text["other"], "en" if language == "ar" else "ar"
        page = (
            f'<!doctype html><html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}"><head>'
            '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Nile Coffee · Kalamna demo</title><style>{DEMO_STYLE}</style></head><body>"
            f"<header><b>☕ Nile Coffee</b></header><section><h1>{escape(text['title'])}</h1>"
            f"<p>{escape(text['lead'])}</p><p>{escape(text['paste'])}</p><pre>{escape(snippet)}</pre>"
            f'<p class="note"><a href="/demo?lang={other_lang}">{escape(other_label)}</a> · '
            f'<a href="/schema/swagger">{escape(text["docs"])}</a></p></section>'
            f'<script src="/widget.js?v={widget_version()}" data-api-key="{escape(info.api_key)}" async>'
            "</script></body></html>"
        )
        return Response(page, media_type="text/html", headers={"Cache-Control": "no-store"})

    return [demo_page]
