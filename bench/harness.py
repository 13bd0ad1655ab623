"""Start a real ``zsticket serve`` process for a benchmark and read its memory use."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

PG_ADMIN_DSN = os.environ.get("ZSTICKET_BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PG_URL = os.environ.get("ZSTICKET_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/{database}")


def sha512(plain: str) -> str:
    return hashlib.sha512(plain.encode()).hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = f"zsticket_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.format(database=name)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Server:
    url: str
    admin_password: str
    process: subprocess.Popen[bytes]

    def peak_rss_mb(self) -> float:
        """VmHWM, the peak resident set size, of the largest of the process and its children."""
        peaks = [_peak_rss_mb(pid) for pid in (self.process.pid, *_children(self.process.pid))]
        return max(peaks)


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    """The server's child processes (``serve --processes N``), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


@contextlib.contextmanager
def serve(
    database_url: str,
    workdir: Path,
    *,
    admin_password: str | None = None,
    serve_args: tuple[str, ...] = (),
    **settings: str,
) -> Iterator[Server]:
    port = free_port()
    password = admin_password or secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "ZSTICKET_DATA_DIR": str(workdir),
        "ZSTICKET_DATABASE_URL": database_url,
        "ZSTICKET_ADMIN_PASSWORD": password,
        **{f"ZSTICKET_{k.upper()}": v for k, v in settings.items()},
    }
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "zsticket", "serve", "--host", "127.0.0.1", "--port", str(port), *serve_args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.1)
        yield Server(url, password, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="zsticket-bench-")
