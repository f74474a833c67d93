"""Redis: revocation lists, rate-limit counters and other data that may be lost or rebuilt."""
