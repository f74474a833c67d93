"""PostgreSQL + pgvector through SQLAlchemy 2 async (advanced-alchemy base classes) on asyncpg."""
