"""Engines and the unit of work: one transaction per API call, rolled back unless committed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

WRITE_OPTION = "zsticket_write"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_database_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and serialised writers (``BEGIN IMMEDIATE``).

    pysqlite's own transaction handling is disabled (SQLAlchemy's documented recipe) so that a
    write transaction takes SQLite's write lock when it begins: two racing approvals then queue up
    instead of both reading the old status.
    """
    if not is_sqlite(url):
        return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=NullPool if ":memory:" in url else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """Session factories for read and write transactions over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._sqlite_writer = threading.Lock()
        self._read = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
        self._write = sessionmaker(
            bind=engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False, autoflush=False
        )

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Session]:
        """A session in one transaction: committed if the block ends normally, else rolled back.

        On SQLite, this process's writers queue on a lock before ``BEGIN IMMEDIATE``: SQLite's own
        busy handler sleeps in growing steps, which would turn a short queue into long tail latency.
        """
        lock = self._sqlite_writer if (write and self.is_sqlite) else nullcontext()
        with lock:
            session = (self._write if write else self._read)()
            try:
                with session.begin():
                    yield session
            finally:
                session.close()
