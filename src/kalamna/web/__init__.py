"""The Litestar edge: translate HTTP to use-case calls; no business rules here."""
