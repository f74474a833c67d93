"""In-memory adapters for fast unit tests; they pass the same contract tests as the real ones."""
