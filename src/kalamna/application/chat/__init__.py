"""Answering customers: the prompt format, its guardrails, and the answer use cases."""
