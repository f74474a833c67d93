"""SQLAlchemy implementations of the repository ports; rows never leave this package."""
