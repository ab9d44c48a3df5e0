"""Database: SQLAlchemy models, engine and sessions."""
