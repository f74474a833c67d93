"""The transactional emails of identity and access, in plain text and HTML.

Links are built from configured base URLs, never from the request's Host header.
"""

from __future__ import annotations

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


def verification_email(
    to: str, full_name: str, organization_name: str, link: str, hours: int
) -> EmailMessage:
    lines = [
        f"Hello {full_name},",
        f"Welcome to Kalamna. Confirm your email address to activate {organization_name}.",
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
        f"Hello {full_name},",
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
    lines = [
        "Hello,",
        f"{inviter_name} invited you to join {organization_name} on Kalamna as {role}.",
        f"This invitation expires in {days} days.",
    ]
    return EmailMessage(
        to=to,
        subject=f"{inviter_name} invited you to {organization_name} on Kalamna",
        text="\n\n".join([*lines, link]),
        html=_html(lines, link, "Accept the invitation"),
    )
