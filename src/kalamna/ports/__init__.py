"""Protocols the core needs from the outside world, named by the role they play."""
