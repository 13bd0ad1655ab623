"""Login, sessions and identity management over real HTTP (iam2-identity-subset.md)."""

from __future__ import annotations

import httpx

from tests.servers import ServerProcess
from tests.world import World
from tests.zstack_client import ADMIN_UUID, ZStackClient, sha512, unique


def test_admin_login_with_sha512_password_returns_a_session(anonymous: ZStackClient, server: ServerProcess) -> None:
    reply = anonymous.login_account("admin", server.admin_password)
    assert reply.status == 200
    session = reply.inventory
    assert len(session["uuid"]) == 32 and session["uuid"] == session["uuid"].lower()
    assert session["accountUuid"] == ADMIN_UUID
    assert session["userUuid"] == ADMIN_UUID
    assert session["expiredDate"].endswith(("AM", "PM"))


def test_wrong_password_is_id_1000(anonymous: ZStackClient) -> None:
    anonymous.login_account("admin", "not-the-password").expect_error("ID.1000", "wrong account name or password")


def test_unknown_session_is_id_1001_on_a_query(anonymous: ZStackClient) -> None:
    client = anonymous.as_session("0" * 32)
    client.query("/tickets").expect_error("ID.1001", "Session expired")


def test_unknown_session_on_an_async_api_is_202_then_id_1001(anonymous: ZStackClient) -> None:
    client = anonymous.as_session("f" * 32)
    client.post("/iam2/projects", {"name": unique("p")}).expect_error("ID.1001")


def test_missing_authorization_header_is_plain_400(anonymous: ZStackClient) -> None:
    response = anonymous.http.get("/tickets")
    assert response.status_code == 400
    assert response.text == "missing header 'Authorization'"


def test_validate_and_logout(admin: ZStackClient, server: ServerProcess) -> None:
    session = ZStackClient(server.base_url).login_account("admin", server.admin_password).inventory["uuid"]
    valid = admin.http.get(f"/accounts/sessions/{session}/valid")
    assert valid.status_code == 200 and valid.json() == {"valid": True}
    out = admin.http.delete(f"/accounts/sessions/{session}")
    assert out.status_code == 200 and out.json() == {}
    assert admin.http.get(f"/accounts/sessions/{session}/valid").json() == {"valid": False}
    admin.as_session(session).query("/tickets").expect_error("ID.1001")


def test_session_expires_and_sliding_renewal(make_server) -> None:  # type: ignore[no-untyped-def]
    import time

    server = make_server(session_timeout="2", session_renew_granularity="0")
    client = ZStackClient(server.base_url)
    client.session = client.login_account("admin", server.admin_password).inventory["uuid"]
    for _ in range(3):  # each call slides the expiry: 3 x 1 s > 2 s timeout
        time.sleep(1)
        assert client.query("/tickets").status == 200
    time.sleep(2.5)
    client.query("/tickets").expect_error("ID.1001", "Session expired")


def test_renew_session_is_async_and_extends_expiry(admin: ZStackClient) -> None:
    inventory = admin.action(f"/accounts/sessions/{admin.session}/renew", "renewSession", {"duration": 86400}).inventory
    assert inventory["uuid"] == admin.session


def test_login_is_throttled_after_repeated_failures(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(login_max_failures="3", login_lockout_seconds="60")
    client = ZStackClient(server.base_url)
    for _ in range(3):
        client.login_account("admin", "wrong").expect_error("ID.1000", "wrong account name or password")
    refused = client.login_account("admin", server.admin_password).expect_error("ID.1000")
    assert "too many failed login attempts" in refused["details"]
    assert server.admin_password not in server.log()


def test_virtual_id_login_and_project_login(world: World) -> None:
    project = world.project()
    member = world.person(project=project["uuid"])
    reply = member.client.login_vid(member.name, member.password)
    assert reply.inventory["userUuid"] == member.uuid
    assert reply.inventory["userType"] == "IAM2VirtualIDVO"
    response = member.client.send(
        "PUT", "/iam2/projects/login", body={"loginIAM2Project": {"projectName": project["name"]}}
    )
    assert response.status_code == 200
    assert response.json()["inventory"]["accountUuid"] == project["linkedAccountUuid"]


def test_identity_management_is_admin_only(world: World) -> None:
    person = world.person()
    person.client.post("/iam2/projects", {"name": unique("p")}).expect_error("ID.1002")
    person.client.post("/iam2/virtual-ids", {"name": unique("v"), "password": sha512("x")}).expect_error("ID.1002")


def test_project_admin_may_add_members_to_its_own_project_only(world: World) -> None:
    project, other = world.project(), world.project()
    boss = world.person(project=project["uuid"], attributes=[{"name": "__ProjectAdmin__", "value": project["uuid"]}])
    newcomer = world.person()
    assert (
        boss.client.post(f"/iam2/projects/{project['uuid']}/virtual-ids", {"virtualIDUuids": [newcomer.uuid]}).status
        == 200
    )
    boss.client.post(f"/iam2/projects/{other['uuid']}/virtual-ids", {"virtualIDUuids": [newcomer.uuid]}).expect_error(
        "ID.1002"
    )


def test_passwords_and_hashes_never_appear_in_responses(world: World, server: ServerProcess) -> None:
    person = world.person()
    body = world.admin.query("/iam2/virtual-ids", f"uuid={person.uuid}").body
    text = str(body)
    assert "password" not in text.lower() and "scrypt" not in text
    log = server.log()
    assert sha512(person.password) not in log and person.password not in log


def test_disabled_virtual_id_cannot_use_its_session(world: World) -> None:
    person = world.person()
    assert person.client.query("/tickets").status == 200
    world.admin.action(
        f"/iam2/virtual-ids/{person.uuid}/actions", "changeIAM2VirtualIDState", {"stateEvent": "disable"}
    )
    person.client.query("/tickets").expect_error("ID.1001")


def test_rest_paths_without_context_are_served(server: ServerProcess) -> None:
    response = httpx.put(
        f"{server.base_url}/v1/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": sha512(server.admin_password)}},
    )
    assert response.status_code == 200
