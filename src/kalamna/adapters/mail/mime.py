from __future__ import annotations

from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid

from kalamna.domain.mail import EmailMessage


def to_mime(message: EmailMessage, *, sender: str) -> MimeMessage:
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(usegmt=True)
    mime["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "kalamna.local")
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime
