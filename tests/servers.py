"""Real service processes and fresh databases for the tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

PG_ADMIN_DSN = os.environ.get("ZSTICKET_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PG_URL_TEMPLATE = os.environ.get("ZSTICKET_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/{database}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'zsticket.db'}"
        return
    name = f"zsticket_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL_TEMPLATE.format(database=name)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class ServerProcess:
    base_url: str
    port: int
    admin_password: str
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown, whatever was in flight is cut off."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    workdir: Path,
    database_url: str,
    *,
    port: int | None = None,
    admin_password: str | None = None,
    serve_args: Sequence[str] = (),
    **settings: str,
) -> ServerProcess:
    """``python -m zsticket serve`` on a free (or the given) port, waiting until it answers."""
    port = port or free_port()
    password = admin_password or secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "ZSTICKET_DATA_DIR": str(workdir),
        "ZSTICKET_DATABASE_URL": database_url,
        "ZSTICKET_ADMIN_PASSWORD": password,
        "ZSTICKET_PASSWORD_HASH_COST": "10",
        "ZSTICKET_WEBHOOK_INTERVAL": "0.2",
        **{f"ZSTICKET_{k.upper()}": v for k, v in settings.items()},
    }
    log_path = workdir / f"server-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "zsticket", "serve", "--host", "127.0.0.1", "--port", str(port), *serve_args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", port, password, database_url, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start:\n{server.log()}")
