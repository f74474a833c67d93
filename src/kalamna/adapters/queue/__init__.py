"""SAQ job queue on Redis."""
