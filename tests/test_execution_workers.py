"""Scale-out: two ``zsticket worker`` processes on one PostgreSQL never claim the same execution."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.executions_support import approve_fully, results_record, vm, wait_for
from tests.fake_zstack.harness import CREATE_VM, FakeZStack
from tests.servers import fresh_database, start_server
from tests.world import World
from tests.zstack_client import ZStackClient

TICKETS = 200


def test_two_worker_processes_share_200_tickets_without_double_claims(
    database_kind: str, tmp_path: Path, node: FakeZStack
) -> None:
    if database_kind != "postgresql":
        pytest.skip("scale-out workers need PostgreSQL (SQLite is one process by design)")
    with fresh_database(database_kind, tmp_path) as url:
        server = start_server(tmp_path, url, execution_workers="0")
        upstream = {"ZSTICKET_ZSTACK_URL": node.url, "ZSTICKET_ZSTACK_PASSWORD": "password"}
        env = {
            **os.environ,
            "ZSTICKET_DATABASE_URL": url,
            "ZSTICKET_DATA_DIR": str(tmp_path),
            "ZSTICKET_ADMIN_PASSWORD": server.admin_password,
            "ZSTICKET_EXECUTION_WORKERS": "3",
            **upstream,
        }
        logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "zsticket", "worker"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
            )
            for log in logs
        ]
        try:
            admin = ZStackClient(server.base_url)
            admin.session = admin.login_account("admin", server.admin_password).inventory["uuid"]
            cast = World(admin).two_step()
            tickets = [approve_fully(cast, [vm(f"vm{n}", 1)])["uuid"] for n in range(TICKETS)]
            for ticket_uuid in tickets:
                wait_for(lambda t=ticket_uuid: results_record(admin, t), timeout=120, what=ticket_uuid)
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=20)
            server.stop()
    sends = Counter(call["job_uuid"] for call in node.calls(api=CREATE_VM))
    assert len(sends) == TICKETS
    assert max(sends.values()) == 1, "an execution was sent twice"
    assert len(node.resources()) == TICKETS
    sent_by = [log.read_text().count("sending org.zstack.header.vm.APICreateVmInstanceMsg") for log in logs]
    assert sum(sent_by) == TICKETS
    assert all(count > 0 for count in sent_by), f"both workers must have worked: {sent_by}"
