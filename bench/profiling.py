"""Sample a server process with py-spy and boil the samples down to where the time goes."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

# Frames of these packages are reported; the rest (asyncio, threading...) only count in the total.
OURS = ("zsticket/", "sqlalchemy/", "starlette/", "uvicorn/", "psycopg/", "json/", "sqlite3/")


def record(pid: int, output: Path, seconds: float) -> subprocess.Popen[bytes]:
    """``py-spy record`` in collapsed-stack format, all threads, ``pip install -e .[bench]``."""
    py_spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen(
        [str(py_spy), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250"]
        + ["--format", "raw", "--output", str(output), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarise(collapsed: Path, top: int = 25) -> str:
    """Inclusive share of samples per function, and the busy share (samples not idle in a wait)."""
    inclusive: Counter[str] = Counter()
    total = busy = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        total += count
        frames = stack.split(";")
        if any(_idle(frame) for frame in frames[-3:]):
            continue
        busy += count
        for name in dict.fromkeys(_name(frame) for frame in frames if any(p in frame for p in OURS)):
            inclusive[name] += count
    lines = [f"  {busy / max(total, 1):6.1%} of {total} samples busy (the rest wait on sockets, locks, queues)"]
    for name, count in inclusive.most_common(top):
        lines.append(f"  {count / max(busy, 1):6.1%}  {name}")
    return "\n".join(lines)


def _name(frame: str) -> str:
    """``function (path/to/module.py:line)`` -> ``module.py:function``."""
    function, _, location = frame.partition(" (")
    return f"{location.rsplit('/', 1)[-1].split(':')[0]}:{function}"


def _idle(frame: str) -> bool:
    return any(word in frame for word in ("select (selectors", "wait (threading", "_worker (concurrent", "epoll"))
