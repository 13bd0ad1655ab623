"""Crash tests of execution (issue: exactly-once effect): the service and the stand-in are SIGKILLed
at random moments while tickets are approved; every approved call runs exactly once in the end."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.executions_support import results_record, vm, wait_for
from tests.fake_zstack.harness import FakeZStack
from tests.servers import ServerProcess, fresh_database, start_server
from tests.world import World
from tests.zstack_client import ZStackClient, unique

TICKETS = 100


class Service:
    """One zsticket serve process that can be SIGKILLed and restarted on the same port and database."""

    def __init__(self, workdir: Path, url: str, **settings: str) -> None:
        self.workdir, self.url, self.settings = workdir, url, settings
        self.process: ServerProcess = start_server(workdir, url, **settings)
        self.lock = threading.Lock()
        self.restarts = 0

    @property
    def base_url(self) -> str:
        return self.process.base_url

    def crash_and_restart(self) -> None:
        with self.lock:
            self.process.kill()
            self.process = start_server(
                self.workdir,
                self.url,
                port=self.process.port,
                admin_password=self.process.admin_password,
                **self.settings,
            )
            self.restarts += 1


def idempotent_call(service: Service, session: str, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """An async call retried across crashes with the same X-Job-UUID, as a careful SDK user would."""
    job = unique("job").replace("-", "").ljust(32, "0")[:32]
    headers = {"Authorization": f"OAuth {session}", "X-Job-UUID": job}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            response = httpx.request(
                method, f"{service.base_url}/zstack/v1{path}", json=body, headers=headers, timeout=30
            )
            if response.status_code in (202, 400):
                if response.status_code == 400:
                    assert response.text.startswith("Duplicate job uuid"), response.text
                result = httpx.get(f"{service.base_url}/zstack/v1/api-jobs/{job}", timeout=30)
                if result.status_code == 200:
                    return dict(result.json())
                raise AssertionError(f"{path}: {result.status_code} {result.text}")
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{method} {path} did not go through")


@pytest.fixture
def service(database_kind: str, tmp_path: Path, node: FakeZStack) -> Iterator[Service]:
    with fresh_database(database_kind, tmp_path) as url:
        svc = Service(tmp_path, url, zstack_url=node.url, zstack_password="password", execution_lease_seconds="5")
        yield svc
        svc.process.stop()


def _approve_many(service: Service, world: World, count: int, chaos: threading.Event) -> list[tuple[str, int]]:
    cast = world.two_step()
    sessions = [cast.submitter.client.session, cast.first.client.session, cast.last.client.session]
    assert all(sessions)
    rng = random.Random(11)
    tickets: list[tuple[str, int]] = []
    for n in range(count):
        times = rng.randint(1, 3)
        params = cast.ticket_params(requests=[vm(f"vm{n}", times)])
        ticket = idempotent_call(service, str(sessions[0]), "POST", "/tickets", {"params": params})["inventory"]
        for approver in sessions[1:]:
            idempotent_call(
                service,
                str(approver),
                "PUT",
                f"/tickets/{ticket['uuid']}/actions",
                {"changeTicketStatus": {"statusEvent": "approve"}},
            )
        tickets.append((ticket["uuid"], times))
    chaos.set()
    return tickets


def _check_exactly_once(service: Service, world: World, node: FakeZStack, tickets: list[tuple[str, int]]) -> None:
    admin = ZStackClient(service.base_url)
    admin.session = world.admin.session
    for ticket_uuid, times in tickets:
        record = wait_for(lambda t=ticket_uuid: results_record(admin, t), timeout=120, what=ticket_uuid)
        (result,) = record["operationContext"]["requestResults"]
        assert (result["successTimes"], result["failureTimes"]) == (times, 0), result
    resources = node.resources()
    assert len(resources) == sum(times for _, times in tickets)
    assert len({r["job_uuid"] for r in resources}) == len(resources)


def test_service_killed_at_random_moments_runs_every_call_exactly_once(service: Service, node: FakeZStack) -> None:
    admin = ZStackClient(service.base_url)
    admin.session = admin.login_account("admin", service.process.admin_password).inventory["uuid"]
    world = World(admin)
    done = threading.Event()

    def chaos() -> None:
        rng = random.Random(5)
        while not done.wait(rng.uniform(0.5, 2.0)):
            service.crash_and_restart()

    killer = threading.Thread(target=chaos, daemon=True)
    killer.start()
    tickets = _approve_many(service, world, TICKETS, done)
    killer.join()
    assert service.restarts >= 3, "the test must actually crash the service"
    _check_exactly_once(service, world, node, tickets)


def test_stand_in_killed_mid_job_runs_every_call_exactly_once(service: Service, node: FakeZStack) -> None:
    admin = ZStackClient(service.base_url)
    admin.session = admin.login_account("admin", service.process.admin_password).inventory["uuid"]
    world = World(admin)
    node.faults(job_delay=0.3)
    done = threading.Event()
    kills = [0]

    def chaos() -> None:
        rng = random.Random(9)
        while not done.wait(rng.uniform(0.5, 1.5)):
            node.restart(hard=True)
            node.faults(job_delay=0.3)
            kills[0] += 1

    killer = threading.Thread(target=chaos, daemon=True)
    killer.start()
    tickets = _approve_many(service, world, TICKETS // 2, done)
    killer.join()
    assert kills[0] >= 3, "the test must actually kill the stand-in"
    _check_exactly_once(service, world, node, tickets)
