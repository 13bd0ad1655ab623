"""Persistence: SQLAlchemy tables, the database engine, the query engine, Alembic migrations."""
