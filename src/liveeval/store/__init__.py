"""Storage: one schema on SQLite and PostgreSQL through SQLAlchemy Core."""
