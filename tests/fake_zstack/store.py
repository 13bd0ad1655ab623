"""The stand-in's durable state: one SQLite file, every change committed before it is reported.

All access happens on the server's event loop thread, so one connection suffices. The connection runs in
autocommit mode; :meth:`Store.transaction` groups changes that must land together (a job's result and the
VM it created), so a SIGKILL leaves either both or neither.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    uuid TEXT PRIMARY KEY, account_name TEXT NOT NULL, account_uuid TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    uuid TEXT PRIMARY KEY, api TEXT NOT NULL, transport TEXT NOT NULL, state TEXT NOT NULL,
    request TEXT NOT NULL, delay REAL NOT NULL, planned_error TEXT, status INTEGER, result TEXT,
    created_at REAL NOT NULL, finished_at REAL);
CREATE TABLE IF NOT EXISTS vms (
    uuid TEXT PRIMARY KEY, job_uuid TEXT NOT NULL UNIQUE, api TEXT NOT NULL, created_at REAL NOT NULL,
    inventory TEXT NOT NULL, request TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, transport TEXT NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, api TEXT, job_uuid TEXT, body TEXT, outcome TEXT NOT NULL);
"""
_JSON_COLUMNS = ("request", "planned_error", "result", "inventory", "body")


def _row(row: sqlite3.Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    data = dict(row)
    for column in _JSON_COLUMNS:
        if isinstance(data.get(column), str):
            data[column] = json.loads(data[column])
    return data


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


class Store:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        return _row(self.db.execute(sql, args).fetchone())

    def _all(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [r for r in (_row(row) for row in self.db.execute(sql, args).fetchall()) if r is not None]

    def reset(self) -> None:
        with self.transaction():
            for table in ("sessions", "jobs", "vms", "calls"):
                self.db.execute(f"DELETE FROM {table}")

    # --- sessions -------------------------------------------------------------------------------------

    def add_session(self, uuid: str, account_name: str, account_uuid: str, timeout: float) -> dict[str, Any]:
        now = time.time()
        self.db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", (uuid, account_name, account_uuid, now, now + timeout)
        )
        session = self.session(uuid)
        assert session is not None
        return session

    def session(self, uuid: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM sessions WHERE uuid = ?", uuid)

    def set_session_expiry(self, uuid: str, expires_at: float) -> None:
        self.db.execute("UPDATE sessions SET expires_at = ? WHERE uuid = ?", (expires_at, uuid))

    def delete_session(self, uuid: str) -> None:
        self.db.execute("DELETE FROM sessions WHERE uuid = ?", (uuid,))

    def expire_all_sessions(self) -> int:
        return self.db.execute("UPDATE sessions SET expires_at = ?", (time.time() - 1,)).rowcount

    # --- jobs -----------------------------------------------------------------------------------------

    def job(self, uuid: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM jobs WHERE uuid = ?", uuid)

    def jobs(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM jobs ORDER BY created_at")

    def add_job(
        self,
        uuid: str,
        api: str,
        transport: str,
        request: dict[str, Any],
        delay: float,
        planned_error: dict[str, Any] | None,
    ) -> bool:
        """Record a new running job; ``False`` (and nothing written) if the job uuid is already known."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO jobs (uuid, api, transport, state, request, delay, planned_error, created_at)"
            " VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
            (uuid, api, transport, _dump(request), delay, _dump(planned_error), time.time()),
        )
        return cursor.rowcount == 1

    def finish_job(self, uuid: str, status: int, result: dict[str, Any]) -> None:
        """Mark a job done (call inside the transaction that made its changes)."""
        self.db.execute(
            "UPDATE jobs SET state = 'done', status = ?, result = ?, finished_at = ? WHERE uuid = ?",
            (status, _dump(result), time.time(), uuid),
        )

    def forget_running_jobs(self) -> list[str]:
        """Drop jobs that never finished (the process died mid-flight): they read as never received."""
        with self.transaction():
            lost = [row["uuid"] for row in self.db.execute("SELECT uuid FROM jobs WHERE state = 'running'")]
            self.db.execute("DELETE FROM jobs WHERE state = 'running'")
        return lost

    def running_jobs(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM jobs WHERE state = 'running' ORDER BY created_at")

    # --- VMs ------------------------------------------------------------------------------------------

    def add_vm(self, inventory: dict[str, Any], job_uuid: str, api: str, request: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO vms VALUES (?, ?, ?, ?, ?, ?)",
            (inventory["uuid"], job_uuid, api, time.time(), _dump(inventory), _dump(request)),
        )

    def vm(self, uuid: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM vms WHERE uuid = ?", uuid)

    def vm_by_job(self, job_uuid: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM vms WHERE job_uuid = ?", job_uuid)

    def vms(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM vms ORDER BY created_at")

    def update_vm(self, inventory: dict[str, Any]) -> None:
        self.db.execute("UPDATE vms SET inventory = ? WHERE uuid = ?", (_dump(inventory), inventory["uuid"]))

    # --- calls ----------------------------------------------------------------------------------------

    def add_call(
        self, transport: str, method: str, path: str, api: str | None, job_uuid: str | None, body: Any, outcome: str
    ) -> None:
        self.db.execute(
            "INSERT INTO calls (at, transport, method, path, api, job_uuid, body, outcome)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (time.time(), transport, method, path, api, job_uuid, _dump(body), outcome),
        )

    def calls(self, since: int = 0) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM calls WHERE seq > ? ORDER BY seq", since)
