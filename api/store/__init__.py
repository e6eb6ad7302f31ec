"""The store: SQLAlchemy models, Alembic migrations and repository functions.

SQLite (a file, WAL mode) by default; PostgreSQL by URL. Every write runs in one transaction.
"""
