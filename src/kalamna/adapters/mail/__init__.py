"""Mailers: SMTP for production, ``.eml`` files for development, memory for tests."""
