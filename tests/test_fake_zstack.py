"""The ZStack stand-in itself, over real HTTP against a real process (tests/fake_zstack)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fake_zstack.harness import CREATE_VM, FakeZStack, fake_zstack
from zsticket.adapters.zstack_routes import route_for

ADMIN_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
VM = {
    "name": "vm1",
    "imageUuid": "1f2e3d4c5b6a47988a7b6c5d4e3f2a1b",
    "l3NetworkUuids": ["0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d"],
}


def job_id(n: int) -> str:
    return f"{n:032x}"


class Client:
    """Just enough of a ZStack REST client: what a real SDK sends, nothing the stand-in alone would accept."""

    def __init__(self, zs: FakeZStack) -> None:
        self.rest = f"{zs.url}/v1"
        self.http = httpx.Client(timeout=10)
        self.session: str | None = None

    def login(self, name: str = "admin", password: str = "password") -> httpx.Response:
        digest = hashlib.sha512(password.encode()).hexdigest()
        response = self.http.put(
            f"{self.rest}/accounts/login", json={"logInByAccount": {"accountName": name, "password": digest}}
        )
        if response.status_code == 200:
            self.session = response.json()["inventory"]["uuid"]
        return response

    def send(self, method: str, path: str, body: Any = None, job: str | None = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"OAuth {self.session}"}
        if job is not None:
            headers["X-Job-UUID"] = job
        return self.http.request(method, f"{self.rest}{path}", json=body, params=params or None, headers=headers)

    def create_vm(self, job: str | None = None, **fields: Any) -> httpx.Response:
        return self.send("POST", "/vm-instances", {"params": {**VM, **fields}}, job)

    def wait(self, accepted: httpx.Response, timeout: float = 10) -> httpx.Response:
        assert accepted.status_code == 202, accepted.text
        location = accepted.json()["location"]
        assert "/zstack/v1/api-jobs/" in location
        deadline = time.monotonic() + timeout
        while (response := self.http.get(location)).status_code == 202:
            assert response.json() == {}
            assert time.monotonic() < deadline, "job still running"
            time.sleep(0.02)
        return response


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeZStack]:
    with fake_zstack(tmp_path_factory.mktemp("fake-zstack"), accounts={"admin": "password", "ops": "s3cret"}) as zs:
        yield zs


@pytest.fixture
def zs(node: FakeZStack) -> FakeZStack:
    node.start()
    node.reset()
    return node


@pytest.fixture
def client(zs: FakeZStack) -> Iterator[Client]:
    c = Client(zs)
    assert c.login().status_code == 200
    yield c
    c.http.close()


def test_login_sessions_and_id_1001(zs: FakeZStack) -> None:
    c = Client(zs)
    response = c.login("admin", "wrong")
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": "ID.1000",
            "description": "Unable to authenticate a user",
            "details": "wrong account name or password",
        }
    }
    session = c.login("ops", "s3cret").json()["inventory"]
    assert len(session["uuid"]) == 32 and session["accountUuid"] != ADMIN_UUID
    assert session["expiredDate"].endswith(("AM", "PM"))
    assert c.login().json()["inventory"]["accountUuid"] == ADMIN_UUID

    assert c.http.get(f"{c.rest}/vm-instances").text == "missing header 'Authorization'"
    assert c.send("GET", "/vm-instances").json() == {"inventories": [], "schema": {}}

    zs.faults(expire_sessions=True)
    refused = c.send("GET", "/vm-instances")
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "ID.1001"
    accepted = c.create_vm(job_id(1))  # async API: 202 first, the poll carries the error
    error = c.wait(accepted)
    assert error.status_code == 503
    assert error.json()["error"]["details"] == "Session expired"
    assert zs.resources() == []

    c.login()
    renewed = c.wait(c.send("PUT", f"/accounts/sessions/{c.session}/renew", {"renewSession": {"duration": 60}}))
    assert renewed.status_code == 200 and renewed.json()["inventory"]["uuid"] == c.session


def test_create_poll_and_query(zs: FakeZStack, client: Client) -> None:
    zs.faults(job_delay=0.5)
    accepted = client.create_vm(job_id(7), description="d")
    assert accepted.json()["location"] == f"{zs.base_url}/zstack/v1/api-jobs/{job_id(7)}"
    assert client.http.get(accepted.json()["location"]).status_code == 202
    done = client.wait(accepted)
    assert done.status_code == 200
    vm = done.json()["inventory"]
    assert vm["name"] == "vm1" and vm["state"] == "Running" and vm["description"] == "d"
    assert vm["imageUuid"] == VM["imageUuid"] and vm["defaultL3NetworkUuid"] == VM["l3NetworkUuids"][0]

    for condition in (f"uuid={vm['uuid']}", "name=vm1"):
        assert client.send("GET", "/vm-instances", q=condition).json()["inventories"] == [vm]
    assert client.send("GET", "/vm-instances", q="name=other").json()["inventories"] == []
    assert [r["job_uuid"] for r in zs.resources()] == [job_id(7)]
    assert client.http.get(f"{client.rest}/api-jobs/{job_id(99)}").text == "the job has been expired"


def test_vm_actions_follow_the_sdk_route_table(zs: FakeZStack, client: Client) -> None:
    vm = client.wait(client.create_vm()).json()["inventory"]
    for api, state in (("APIStopVmInstanceMsg", "Stopped"), ("APIStartVmInstanceMsg", "Running")):
        route = route_for(f"org.zstack.header.vm.{api}")
        assert route is not None and route.wrapper is not None
        reply = client.wait(client.send(route.method, route.path.format(uuid=vm["uuid"]), {route.wrapper: {}}))
        assert reply.json()["inventory"]["state"] == state
    route = route_for("org.zstack.header.vm.APIDestroyVmInstanceMsg")
    assert route is not None
    assert client.wait(client.send(route.method, route.path.format(uuid=vm["uuid"]))).json() == {}
    assert client.send("GET", f"/vm-instances/{vm['uuid']}").json()["inventories"][0]["state"] == "Destroyed"


def test_duplicate_job_uuid_is_idempotent(zs: FakeZStack, client: Client) -> None:
    zs.faults(job_delay=0.3)
    first = client.create_vm(job_id(5))
    second = client.create_vm(job_id(5), name="other")
    assert second.status_code == 202 and second.json() == first.json()
    assert client.wait(second).json()["inventory"]["name"] == "vm1"
    assert client.create_vm(job_id(5)).json() == first.json()
    assert len(zs.resources()) == 1
    outcomes = [call["outcome"] for call in zs.calls(api="APICreateVmInstanceMsg")]
    assert outcomes == ["202", "202 duplicate job uuid: nothing new", "202 duplicate job uuid: nothing new"]
    fresh = client.create_vm()  # no X-Job-UUID: a fresh job id
    assert fresh.json()["location"] != first.json()["location"]
    assert len(client.http.request("POST", f"{client.rest}/vm-instances").text) > 0
    assert client.create_vm("not-32-chars").status_code == 400


def test_fail_next_is_a_503_error_code_and_creates_nothing(zs: FakeZStack, client: Client) -> None:
    zs.faults(fail_next=2, error={"code": "SYS.1006", "details": "no host has capacity"})
    for n in (1, 2):
        failed = client.wait(client.create_vm(job_id(n)))
        assert failed.status_code == 503
        assert failed.json() == {
            "error": {"code": "SYS.1006", "description": "An operation failed", "details": "no host has capacity"}
        }
    assert client.wait(client.create_vm(job_id(3))).status_code == 200
    assert [r["job_uuid"] for r in zs.resources()] == [job_id(3)]


def test_http_500_and_dropped_connections(zs: FakeZStack, client: Client) -> None:
    zs.faults(http_500_next=1)
    response = client.create_vm(job_id(1))
    assert response.status_code == 500 and response.text == "Internal Server Error"

    zs.faults(drop_next=1)
    with pytest.raises(httpx.TransportError):
        client.create_vm(job_id(1))
    assert zs.jobs() == []

    zs.faults(drop_after_next=1, drop_after_api="APICreateVmInstanceMsg")
    with pytest.raises(httpx.TransportError):
        client.create_vm(job_id(1))  # processed, but the 202 is lost
    assert client.wait(client.create_vm(job_id(1))).status_code == 200  # the resend finds the same job
    assert len(zs.resources()) == 1
    outcomes = [call["outcome"] for call in zs.calls(api=CREATE_VM)]
    assert outcomes == [
        "500 injected",
        "dropped before processing",
        "202 processed, response dropped",
        "202 duplicate job uuid: nothing new",
    ]


def test_rpc_login_create_and_result(zs: FakeZStack) -> None:
    def rpc(cls: str, msg: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{zs.url}/api", json={cls: msg})
        assert response.status_code == 200
        return dict(response.json())

    password = hashlib.sha512(b"password").hexdigest()
    envelope = rpc("org.zstack.header.identity.APILogInByAccountMsg", {"accountName": "admin", "password": password})
    login = json.loads(envelope["result"])["org.zstack.header.identity.APILogInReply"]
    assert envelope["state"] == "Done" and login["success"] is True
    msg = {**VM, "id": job_id(42), "session": {"uuid": login["inventory"]["uuid"]}}
    envelope = rpc(CREATE_VM, msg)
    event = json.loads(envelope["result"])["org.zstack.header.vm.APICreateVmInstanceEvent"]
    assert envelope["uuid"] == job_id(42) and event["success"] is True
    assert rpc(CREATE_VM, msg) == envelope  # the same id again: the first job's result, nothing new
    assert len(zs.resources()) == 1
    assert httpx.get(f"{zs.url}/api/result/{job_id(42)}").json() == envelope

    zs.faults(job_delay=1.5)
    processing = rpc(CREATE_VM, {**msg, "id": job_id(43)})
    assert processing["state"] == "Processing"
    time.sleep(1.6)
    assert httpx.get(f"{zs.url}/api/result/{job_id(43)}").json()["state"] == "Done"

    bad = json.loads(rpc(CREATE_VM, {**VM, "session": {"uuid": "f" * 32}})["result"])
    assert bad["org.zstack.header.vm.APICreateVmInstanceEvent"]["error"]["code"] == "ID.1001"


def test_sigkill_and_restart_keep_finished_jobs_and_never_duplicate_a_vm(tmp_path: Path) -> None:
    with fake_zstack(tmp_path) as zs:
        client = Client(zs)
        client.login()
        done = client.wait(client.create_vm(job_id(1)))
        zs.faults(job_delay=30)
        in_flight = client.create_vm(job_id(2))
        assert in_flight.status_code == 202
        zs.kill()
        zs.start()
        assert client.http.get(in_flight.json()["location"]).status_code == 404  # forgotten: never received
        assert client.http.get(f"{client.rest}/api-jobs/{job_id(1)}").json() == done.json()
        assert client.create_vm(job_id(1)).json()["location"].endswith(job_id(1))  # duplicate, still idempotent
        assert client.wait(client.create_vm(job_id(2))).status_code == 200  # the resend runs, once
        zs.restart(hard=True)
        assert [r["job_uuid"] for r in zs.resources()] == [job_id(1), job_id(2)]
        assert client.send("GET", "/vm-instances").status_code == 200  # the session survived too


def test_resume_policy_finishes_in_flight_jobs_after_a_restart(tmp_path: Path) -> None:
    with fake_zstack(tmp_path, inflight_on_restart="resume") as zs:
        client = Client(zs)
        client.login()
        zs.faults(job_delay=30)
        accepted = client.create_vm(job_id(3))
        zs.kill()
        zs.start()
        assert client.wait(accepted).status_code == 200
        assert [r["job_uuid"] for r in zs.resources()] == [job_id(3)]
