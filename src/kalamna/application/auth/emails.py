"""The transactional emails of identity and access, in plain text and HTML.

Links are built from configured base URLs, never from the request's Host header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from kalamna.domain.mail import EmailMessage


@dataclass(frozen=True, slots=True)
class Links:
    public_url: str
    dashboard_url: str

    def verify_email(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/api/v1/auth/verify/{quote(token)}"

    def reset_password(self, token: str) -> str:
        return f"{self.dashboard_url.rstrip('/')}/reset-password?token={quote(token)}"

    def accept_invitation(self, token: str) -> str:
        return f"{self.dashboard_url.rstrip('/')}/accept-invitation?token={quote(token)}"


def _html(paragraphs: list[str], link: str, button: str) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">'
        f'{body}<p><a href="{escape(link)}">{escape(button)}</a></p>'
        f'<p style="color:#666;font-size:12px">{escape(link)}</p></body></html>'
    )


# Mail to an address nobody has verified yet must not carry text an attacker chose (a registrant can
# type anyone's address): at most a short name, and none that looks like a link or an address.
NAME_MAX = 40
_LINKISH = re.compile(r"(://|www\.|@|[A-Za-z0-9-]\.[A-Za-z]{2,}|[<>\[\]{}\\|`]|\d{5,})", re.IGNORECASE)


def display_name(name: str | None, fallback: str) -> str:
    """``name`` when it is short and link-free, else ``fallback``."""
    clean = " ".join((name or "").split())
    if not clean or len(clean) > NAME_MAX or _LINKISH.search(clean):
        return fallback
    return clean


def verification_email(to: str, full_name: str, link: str, hours: int) -> EmailMessage:
    lines = [
        f"Hello {display_name(full_name, 'there')},",
        "Welcome to Kalamna. Confirm your email address to activate your organization.",
        f"This link expires in {hours} hours. If you did not sign up, ignore this email.",
    ]
    return EmailMessage(
        to=to,
        subject="Confirm your email address",
        text="\n\n".join([*lines, link]),
        html=_html(lines, link, "Confirm my email"),
    )


def password_reset_email(to: str, full_name: str, link: str, minutes: int) -> EmailMessage:
    lines = [
        f"Hello {display_name(full_name, 'there')},",
        "Someone asked to reset the password of your Kalamna account.",
        f"This link works once and expires in {minutes} minutes. If it was not you, ignore this email:"
        " your password stays the same.",
    ]
    return EmailMessage(
        to=to,
        subject="Reset your password",
        text="\n\n".join([*lines, link]),
        html=_html(lines, link, "Choose a new password"),
    )


def invitation_email(
    to: str, organization_name: str, inviter_name: str, role: str, link: str, days: int
) -> EmailMessage:
    inviter = display_name(inviter_name, "A colleague")
    organization = display_name(organization_name, "their organization")
    lines = [
        "Hello,",
        f"{inviter} invited you to join {organization} on Kalamna as {role}.",
        f"This invitation expires in {days} days.",
    ]
    return EmailMessage(
        to=to,
        subject=f"{inviter} invited you to {organization} on Kalamna",
        text="\n\n".join([*lines, link]),
        html=_html(lines, link, "Accept the invitation"),
    )
