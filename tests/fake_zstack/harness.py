"""Run the ZStack stand-in as a real subprocess (start, stop, SIGKILL, restart) and drive its control API.

with fake_zstack(tmp_path) as zs:
    upstream = ZStackUpstream(url=zs.url, account="admin", password="password")
    zs.faults(job_delay=2.0, fail_next=1, error={"code": "SYS.1006", "details": "no capacity"})
    ...
    zs.kill()      # SIGKILL, mid-flight jobs and all
    zs.start()     # same port, same state file
    assert len(zs.resources()) == 1
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
CREATE_VM = "org.zstack.header.vm.APICreateVmInstanceMsg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FakeZStack:
    """One stand-in management node. ``start()`` again after ``stop()``/``kill()`` reuses port and state file."""

    workdir: Path
    accounts: dict[str, str] = field(default_factory=lambda: {"admin": "password"})  # name -> plain password
    session_timeout: float = 7200.0
    inflight_on_restart: str = "forget"  # or "resume"
    port: int = field(default_factory=free_port)
    state_file: Path | None = None  # default: <workdir>/fake-zstack.db
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.state_file is None:
            self.state_file = self.workdir / "fake-zstack.db"
        self.log_path = self.workdir / f"fake-zstack-{self.port}.log"
        self._control = httpx.Client(base_url=f"{self.base_url}/__control", timeout=10)

    # --- addresses ------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``"""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The node URL with the ``/zstack`` context path: REST at ``url + "/v1"``, RPC at ``url + "/api"``."""
        return f"{self.base_url}/zstack"

    # --- process --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "tests.fake_zstack", "--port", str(self.port)]
        command += ["--state-file", str(self.state_file), "--session-timeout", str(self.session_timeout)]
        command += ["--inflight-on-restart", self.inflight_on_restart]
        for name, password in self.accounts.items():
            command += ["--account", f"{name}:{password}"]
        return command

    def start(self, timeout: float = 30.0) -> FakeZStack:
        """Start the process (if not running) and wait until it answers."""
        if self.running:
            return self
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command(), cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"fake ZStack exited with {self.process.returncode}:\n{self.log()}")
            try:
                health = self._control.get("/health", timeout=1)
                if health.status_code == 200 and health.json().get("pid") == self.process.pid:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"fake ZStack did not start within {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait (SIGKILL after ``timeout``)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL, no chance to clean up; the state file keeps whatever was committed."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def restart(self, *, hard: bool = False, timeout: float = 30.0) -> FakeZStack:
        """Stop (SIGKILL when ``hard``) and start again on the same port and state file."""
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def close(self) -> None:
        self.stop()
        self._control.close()

    def __enter__(self) -> FakeZStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- control API (/__control/) ------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._control.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def faults(self, **faults: Any) -> dict[str, Any]:
        """Merge faults (see ``control.Faults``; ``expire_sessions=True`` acts at once); returns them all."""
        return dict(self._call("POST", "/faults", json=faults)["faults"])

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def reset(self) -> None:
        """Clear faults, sessions, jobs, VMs and the call log."""
        self._call("POST", "/reset")

    def calls(self, api: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Every request to the ZStack API in order (``api``: a class name, its short name, or ``api-jobs``)."""
        params: dict[str, Any] = {"since": since, **({"api": api} if api else {})}
        return list(self._call("GET", "/calls", params=params))

    def resources(self) -> list[dict[str, Any]]:
        """Every VM created: ``uuid``, ``job_uuid``, ``api``, ``created_at``, ``inventory``, ``request``."""
        return list(self._call("GET", "/resources"))

    def jobs(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/jobs"))


@contextmanager
def fake_zstack(workdir: Path, **options: Any) -> Iterator[FakeZStack]:
    """A started stand-in, stopped afterwards (``options``: the :class:`FakeZStack` fields)."""
    node = FakeZStack(workdir, **options)
    try:
        yield node.start()
    finally:
        node.close()
