"""AI adapters: token counting, chunking, embedders, chat models (offline defaults, OpenAI-compatible)."""
