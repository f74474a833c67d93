"""Conversations: a reply's whole life, human handover, the staff inbox and the live events."""
