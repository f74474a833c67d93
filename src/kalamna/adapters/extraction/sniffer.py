"""The ``DocumentSniffer`` port over ``detect_kind``."""

from __future__ import annotations

from kalamna.adapters.extraction.sniff import detect_kind


class ExtensionAndContentSniffer:
    def content_type(self, data: bytes, filename: str) -> str:
        return detect_kind(data, filename, None).value
