from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """An outgoing email with both a plain-text and an HTML body."""

    to: str
    subject: str
    text: str
    html: str

    def to_payload(self) -> dict[str, str]:
        """JSON-safe form, for carrying the message through the job queue."""
        return {"to": self.to, "subject": self.subject, "text": self.text, "html": self.html}

    @classmethod
    def from_payload(cls, payload: dict[str, str]) -> EmailMessage:
        return cls(to=payload["to"], subject=payload["subject"], text=payload["text"], html=payload["html"])
