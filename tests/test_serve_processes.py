"""``zsticket serve --processes N``: several server processes on one port and one PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.servers import fresh_database, start_server
from tests.zstack_client import ZStackClient, unique

PROCESSES = 2


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _spawned_servers(pid: int) -> int:
    """Children started by uvicorn's supervisor (multiprocessing spawn), not its resource tracker."""
    count = 0
    for child in _children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                count += 1
        except OSError:
            continue
    return count


def test_processes_share_the_port_and_the_job_results(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        server = start_server(tmp_path, url, serve_args=["--processes", str(PROCESSES)])
        try:
            assert _spawned_servers(server.process.pid) == PROCESSES

            def create_and_poll(_: int) -> str:
                client = ZStackClient(server.base_url)  # a new connection: any process may accept it
                try:
                    client.session = client.login_account("admin", server.admin_password).inventory["uuid"]
                    return str(client.post("/iam2/projects", {"name": unique("project")}).inventory["uuid"])
                finally:
                    client.close()

            with ThreadPoolExecutor(8) as pool:
                created = list(pool.map(create_and_poll, range(40)))
            admin = ZStackClient(server.base_url)
            admin.session = admin.login_account("admin", server.admin_password).inventory["uuid"]
            found = admin.query("/iam2/projects", f"uuid?={','.join(created)}").inventories
            assert sorted(p["uuid"] for p in found) == sorted(created)
            admin.close()
        finally:
            server.stop()
        assert server.process.returncode is not None
        assert _spawned_servers(server.process.pid) == 0


def test_processes_are_refused_on_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "ZSTICKET_DATA_DIR": str(tmp_path), "ZSTICKET_ADMIN_PASSWORD": "not-used-here"}
    env.pop("ZSTICKET_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "zsticket", "serve", "--port", "1", "--processes", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--processes > 1 needs PostgreSQL" in done.stderr
    assert not (tmp_path / "zsticket.db").exists()  # refused before anything was created
