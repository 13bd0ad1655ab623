"""A client written from the wire rules alone (tests/stock_client_script.py) works against the service."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from tests.servers import ServerProcess
from tests.zstack_client import ZStackClient, unique

SCRIPT = Path(__file__).with_name("stock_client_script.py")


def run_script(server: ServerProcess, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ZSTACK_ADMIN_PASSWORD"}
    if password is not None:
        env["ZSTACK_ADMIN_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), server.base_url, *args],  # -I: no cwd, so no 'tests' package
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_script_imports_only_httpx_and_the_standard_library() -> None:
    tree = ast.parse(SCRIPT.read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    assert "httpx" in modules
    assert modules - {"httpx", "__future__"} <= set(sys.stdlib_module_names), modules


def test_stock_client_round_trip(server: ServerProcess, admin: ZStackClient) -> None:
    prefix = unique("stock")
    done = run_script(server, "--prefix", prefix, password=server.admin_password)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout
    project_line, members_line, verdict = lines
    assert project_line.startswith(f"project {prefix}-project ")
    assert members_line == f"members {prefix}-bob,{prefix}-ann total=2"
    assert verdict == "OK"

    # What the script wrote is really there, seen through this suite's own client.
    project_uuid = project_line.split()[-1]
    (project,) = admin.query("/iam2/projects", f"name={prefix}-project").inventories
    assert project["uuid"] == project_uuid
    members = admin.query("/iam2/virtual-ids", f"projects.uuid={project_uuid}", sort="+name").inventories
    assert [(m["name"], m["description"]) for m in members] == [
        (f"{prefix}-ann", f"ann of {prefix}"),
        (f"{prefix}-bob", f"bob of {prefix}"),
    ]


def test_stock_client_reports_failure_with_a_wrong_password(server: ServerProcess) -> None:
    done = run_script(server, "--prefix", unique("stock"), password="not-the-password")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "FAILED: login answered 503" in done.stderr
    assert "ID.1000" in done.stderr


def test_stock_client_needs_a_password(server: ServerProcess) -> None:
    done = run_script(server)
    assert done.returncode == 2
    assert "ZSTACK_ADMIN_PASSWORD" in done.stderr
