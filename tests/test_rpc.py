"""The older RPC endpoint ``POST /zstack/api`` (zstack-rpc-endpoint.md), as zstack-cli and apibinding use it."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from tests.servers import ServerProcess
from tests.zstack_client import ADMIN_UUID, ZStackClient, rpc_call, sha512, unique

IDENTITY = "org.zstack.header.identity."
IAM2 = "org.zstack.iam2.api."
LOGIN = IDENTITY + "APILogInByAccountMsg"
CREATE_PROJECT = IAM2 + "APICreateIAM2ProjectMsg"
QUERY_PROJECT = IAM2 + "APIQueryIAM2ProjectMsg"
HEX32 = re.compile(r"[0-9a-f]{32}")


def only(result: dict[str, Any], key: str) -> dict[str, Any]:
    """The reply under its one class-name key."""
    assert list(result) == [key], result
    return result[key]  # type: ignore[no-any-return]


def login(server: ServerProcess, path: str = "/zstack/api") -> str:
    _, result = rpc_call(
        server.base_url, LOGIN, {"accountName": "admin", "password": sha512(server.admin_password)}, path=path
    )
    return str(only(result, IDENTITY + "APILogInByAccountReply")["inventory"]["uuid"])


@pytest.mark.parametrize("path", ["/zstack/api", "/zstack/api/"])
def test_login_by_account(server: ServerProcess, path: str) -> None:
    response = httpx.post(
        f"{server.base_url}{path}",
        json={LOGIN: {"accountName": "admin", "password": sha512(server.admin_password), "timeout": 30000}},
    )
    assert response.status_code == 200
    envelope = response.json()
    assert set(envelope) == {"uuid", "state", "result"}
    assert envelope["state"] == "Done"
    assert HEX32.fullmatch(envelope["uuid"])
    assert isinstance(envelope["result"], str)  # a JSON string, not an object
    reply = only(json.loads(envelope["result"]), IDENTITY + "APILogInByAccountReply")
    assert reply["success"] is True
    session = reply["inventory"]
    assert HEX32.fullmatch(session["uuid"])
    assert session["accountUuid"] == ADMIN_UUID and session["userUuid"] == ADMIN_UUID
    # The session works on REST v1 too: both protocols share one service.
    rest = ZStackClient(server.base_url, session["uuid"])
    assert rest.query("/iam2/projects", limit=1).status == 200
    rest.close()


def test_wrong_password_is_a_failed_reply_not_an_http_error(server: ServerProcess) -> None:
    envelope, result = rpc_call(server.base_url, LOGIN, {"accountName": "admin", "password": sha512("nope")})
    assert envelope["state"] == "Done"
    reply = only(result, IDENTITY + "APILogInByAccountReply")
    assert reply["success"] is False
    assert reply["error"]["code"] == "ID.1000"
    assert reply["error"]["details"] == "wrong account name or password"
    assert "inventory" not in reply


def test_async_create_and_its_result(server: ServerProcess, admin: ZStackClient) -> None:
    session, name = login(server), unique("rpc")
    envelope, result = rpc_call(
        server.base_url, CREATE_PROJECT, {"name": name, "description": "by rpc", "session": {"uuid": session}}
    )
    assert envelope["state"] == "Done"
    event = only(result, IAM2 + "APICreateIAM2ProjectEvent")
    assert event["success"] is True
    inventory = event["inventory"]
    assert inventory["name"] == name and inventory["description"] == "by rpc"
    assert admin.query("/iam2/projects", f"name={name}").inventories == [inventory]

    polled = httpx.get(f"{server.base_url}/zstack/api/result/{envelope['uuid']}")
    assert polled.status_code == 200
    again = polled.json()
    assert again["uuid"] == envelope["uuid"] and again["state"] == "Done"
    assert json.loads(again["result"]) == result
    # The job is the same one REST v1 polls.
    rest_poll = httpx.get(f"{server.base_url}/zstack/v1/api-jobs/{envelope['uuid']}")
    assert rest_poll.status_code == 200 and rest_poll.json() == {"inventory": inventory}


def test_async_failure_result_can_be_fetched(server: ServerProcess) -> None:
    session = login(server)
    envelope, result = rpc_call(server.base_url, CREATE_PROJECT, {"session": {"uuid": session}})
    event = only(result, IAM2 + "APICreateIAM2ProjectEvent")
    assert event["success"] is False
    assert event["error"]["details"] == f"field[name] of message[{CREATE_PROJECT}] is mandatory, can not be null"
    polled = httpx.get(f"{server.base_url}/zstack/api/result/{envelope['uuid']}")
    assert polled.status_code == 200
    assert json.loads(polled.json()["result"]) == result


def test_result_of_an_unknown_job_is_404(server: ServerProcess) -> None:
    response = httpx.get(f"{server.base_url}/zstack/api/result/{'a' * 32}")
    assert response.status_code == 404
    assert response.text == "the job has been expired"


@pytest.mark.parametrize(
    ("session", "details"),
    [({"uuid": "0" * 32}, "Session expired"), (None, "session uuid is null"), ({}, "session uuid is null")],
)
def test_bad_session_is_id_1001(server: ServerProcess, admin: ZStackClient, session: Any, details: str) -> None:
    name = unique("rpc")
    msg: dict[str, Any] = {"name": name}
    if session is not None:
        msg["session"] = session
    response = httpx.post(f"{server.base_url}/zstack/api", json={CREATE_PROJECT: msg})
    assert response.status_code == 200  # failures are replies, not HTTP errors
    event = only(json.loads(response.json()["result"]), IAM2 + "APICreateIAM2ProjectEvent")
    assert event["success"] is False
    assert event["error"]["code"] == "ID.1001"
    assert event["error"]["details"] == details
    assert admin.query("/iam2/projects", f"name={name}").inventories == []


def test_unknown_message_class_is_sys_1008(server: ServerProcess) -> None:
    session = login(server)
    msg = {"uuid": "0" * 32, "session": {"uuid": session}}
    envelope, result = rpc_call(server.base_url, "org.zstack.header.vm.APIStartVmInstanceMsg", msg)
    assert envelope["state"] == "Done"
    reply = only(result, "org.zstack.header.vm.APIStartVmInstanceReply")
    assert reply["success"] is False
    assert reply["error"]["code"] == "SYS.1008"
    assert reply["error"]["description"] == "Unknown message, no service can deal with the message"


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"a": {}, "b": {}}'])
def test_malformed_envelope_is_a_failed_reply(server: ServerProcess, body: bytes) -> None:
    response = httpx.post(f"{server.base_url}/zstack/api", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    (reply,) = json.loads(response.json()["result"]).values()
    assert reply["success"] is False and reply["error"]["code"] == "SYS.1007"


def test_query_with_conditions(server: ServerProcess, admin: ZStackClient) -> None:
    prefix = unique("rpcq")
    made = [admin.post("/iam2/projects", {"name": f"{prefix}-{n}"}).inventory for n in ("a", "b", "c")]
    session = login(server)

    def query(*conditions: dict[str, Any], **extra: Any) -> dict[str, Any]:
        msg = {"conditions": [{"name": "name", "op": "like", "value": f"{prefix}-%"}, *conditions], **extra}
        _, result = rpc_call(server.base_url, QUERY_PROJECT, {**msg, "session": {"uuid": session}})
        return only(result, IAM2 + "APIQueryIAM2ProjectReply")

    everything = query(sortBy="name", sortDirection="desc")
    assert everything["success"] is True
    assert [p["name"] for p in everything["inventories"]] == [f"{prefix}-c", f"{prefix}-b", f"{prefix}-a"]
    assert everything["inventories"][-1] == made[0]
    assert "schema" not in everything

    picked = query({"name": "uuid", "op": "in", "value": [made[0]["uuid"], made[2]["uuid"]]}, sortBy="name")
    assert [p["uuid"] for p in picked["inventories"]] == [made[0]["uuid"], made[2]["uuid"]]
    assert query({"name": "name", "op": "!=", "value": f"{prefix}-b"}, count=True) == {"total": 2, "success": True}
    assert query({"name": "description", "op": "is null"}, replyWithCount=True, limit=1)["total"] == 3
    assert query({"name": "state", "op": "=", "value": "Disabled"})["inventories"] == []

    failed = query({"name": "name", "op": "~~", "value": "x"})
    assert failed["success"] is False and failed["error"]["code"] == "SYS.1007"
