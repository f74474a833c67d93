"""Knowledge processing: text rules, chunking, extraction, offline embeddings."""
