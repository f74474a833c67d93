"""Text extraction from uploads (txt, md, html, pdf, docx), sandboxed in a child process."""

from kalamna.adapters.extraction.sandbox import SandboxedTextExtractor

__all__ = ["SandboxedTextExtractor"]
