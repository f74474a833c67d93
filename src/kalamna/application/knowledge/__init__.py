"""The knowledge base: entries, ingestion (extract → chunk → embed → index), retrieval."""
