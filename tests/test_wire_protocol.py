"""REST v1 wire rules over real HTTP (rest-conventions §2, §4, §5, §6, §8).

Async calls answer 202 + ``location``, polls answer the result; malformed requests are refused
either in plain text before any API runs, or with an ErrorCode, and in both cases write nothing.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import uuid as uuidlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.servers import ServerProcess
from tests.world import World
from tests.zstack_client import ZStackClient, sha512, unique

PROJECTS = "/iam2/projects"
CREATE_PROJECT = "org.zstack.iam2.api.APICreateIAM2ProjectMsg"
ZSTACK_DATE = re.compile(
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [1-9]\d?, \d{4} (1[0-2]|[1-9]):[0-5]\d:[0-5]\d (AM|PM)"
)
ZSTACK_UUID = re.compile(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}")


def job_uuid() -> str:
    return uuidlib.uuid4().hex


def projects_named(client: ZStackClient, name: str) -> list[dict[str, Any]]:
    return client.query(PROJECTS, f"name={name}").inventories


def poll_text(location: str) -> httpx.Response:
    return httpx.get(location, timeout=30)


def is_plain_text(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/plain")


# --- the async protocol --------------------------------------------------------------------------


def test_async_create_answers_202_with_a_location_built_from_the_host_header(
    admin: ZStackClient, server: ServerProcess
) -> None:
    job, name = job_uuid(), unique("wire")
    response = admin.send(
        "POST",
        PROJECTS,
        body={"params": {"name": name}},
        headers={"X-Job-UUID": job, "Host": "mn.example.com:8080", "X-API-Timeout": "60"},
    )
    assert response.status_code == 202
    assert response.json() == {"location": f"http://mn.example.com:8080/zstack/v1/api-jobs/{job}", "apiTimeout": 60000}

    poll = poll_text(f"{server.base_url}/zstack/v1/api-jobs/{job}")  # no Authorization: polls need none
    assert poll.status_code == 200
    body = poll.json()
    assert list(body) == ["inventory"]
    assert body["inventory"]["name"] == name
    # A Java client that signed in with an access key polls with 'OAuth null'; polls check no session.
    again = httpx.get(f"{server.base_url}/v1/api-jobs/{job}", headers={"Authorization": "OAuth null"})
    assert again.status_code == 200 and again.json() == body
    assert [p["uuid"] for p in projects_named(admin, name)] == [body["inventory"]["uuid"]]


def test_default_api_timeout_and_server_made_job_uuid(admin: ZStackClient, server: ServerProcess) -> None:
    response = httpx.post(
        f"{server.base_url}/v1/iam2/projects",  # no context path: the location still has /zstack/v1/api-jobs/
        json={"params": {"name": unique("wire")}},
        headers={"Authorization": f"OAuth {admin.session}"},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["apiTimeout"] == 1800000
    prefix = f"http://127.0.0.1:{server.port}/zstack/v1/api-jobs/"
    assert body["location"].startswith(prefix)
    assert ZSTACK_UUID.fullmatch(body["location"][len(prefix) :])
    assert admin.poll(body["location"]).status == 200


def test_duplicate_job_uuid_is_refused_and_writes_nothing(admin: ZStackClient) -> None:
    job, name, other = job_uuid(), unique("dup"), unique("dup")
    first = admin.send("POST", PROJECTS, body={"params": {"name": name}}, headers={"X-Job-UUID": job})
    assert first.status_code == 202
    assert admin.poll(first.json()["location"]).inventory["name"] == name

    for retry_name in (name, other):
        again = admin.send("POST", PROJECTS, body={"params": {"name": retry_name}}, headers={"X-Job-UUID": job})
        assert again.status_code == 400
        assert again.text == f"Duplicate job uuid[{job}]"
        assert is_plain_text(again)
    assert len(projects_named(admin, name)) == 1
    assert projects_named(admin, other) == []
    # The first result is still what the job answers.
    assert admin.poll(first.json()["location"]).inventory["name"] == name


@pytest.mark.parametrize("raw", [b'{"params": ', b'{"params": "not an object"}'])
def test_duplicate_job_uuid_is_refused_even_when_the_body_is_bad(admin: ZStackClient, raw: bytes) -> None:
    job, name = job_uuid(), unique("dup")
    first = admin.send("POST", PROJECTS, body={"params": {"name": name}}, headers={"X-Job-UUID": job})
    assert admin.poll(first.json()["location"]).inventory["name"] == name
    again = admin.http.post(PROJECTS, content=raw, headers=admin._headers({"X-Job-UUID": job}))
    assert again.status_code == 400
    assert again.text == f"Duplicate job uuid[{job}]"
    assert admin.poll(first.json()["location"]).inventory["name"] == name


def test_a_get_may_reuse_a_job_uuid(admin: ZStackClient) -> None:
    job = job_uuid()
    created = admin.send("POST", PROJECTS, body={"params": {"name": unique("dup")}}, headers={"X-Job-UUID": job})
    assert created.status_code == 202
    assert admin.poll(created.json()["location"]).status == 200
    for _ in range(2):
        assert admin.send("GET", PROJECTS, params={"limit": "1"}, headers={"X-Job-UUID": job}).status_code == 200


@pytest.mark.parametrize("header", ["abc", "f" * 31, "f" * 33, str(uuidlib.uuid4())])
def test_job_uuid_of_wrong_length_is_plain_400(admin: ZStackClient, header: str) -> None:
    name = unique("badjob")
    response = admin.send("POST", PROJECTS, body={"params": {"name": name}}, headers={"X-Job-UUID": header})
    assert response.status_code == 400
    assert response.text == "Invalid header[X-Job-UUID], it must be a UUID with '-' stripped"
    assert projects_named(admin, name) == []


def test_a_job_uuid_is_only_checked_for_length(admin: ZStackClient) -> None:
    job = "Z" * 32
    response = admin.send("POST", PROJECTS, body={"params": {"name": unique("z")}}, headers={"X-Job-UUID": job})
    assert response.status_code == 202
    assert response.json()["location"].endswith(f"/api-jobs/{job}")
    assert admin.poll(response.json()["location"]).status == 200


def test_poll_of_an_unknown_job_is_404_text(server: ServerProcess) -> None:
    response = poll_text(f"{server.base_url}/zstack/v1/api-jobs/{job_uuid()}")
    assert response.status_code == 404
    assert response.text == "the job has been expired"
    assert is_plain_text(response)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_only_get_is_allowed_on_api_jobs(server: ServerProcess, method: str) -> None:
    response = httpx.request(method, f"{server.base_url}/zstack/v1/api-jobs/{job_uuid()}")
    assert response.status_code == 405
    assert response.text == "only GET method is allowed for querying job status"


def test_failure_of_an_async_api_is_202_then_503_with_only_an_error(admin: ZStackClient) -> None:
    response = admin.send("POST", PROJECTS, body={"params": {}})
    assert response.status_code == 202
    poll = poll_text(response.json()["location"])
    assert poll.status_code == 503
    body = poll.json()
    assert list(body) == ["error"]
    assert body["error"] == {
        "code": "SYS.1007",
        "description": "One or more API argument is invalid",
        "details": f"field[name] of message[{CREATE_PROJECT}] is mandatory, can not be null",
    }


def test_an_empty_body_is_an_empty_message(admin: ZStackClient) -> None:
    response = admin.http.post(PROJECTS, headers=admin._headers())
    assert response.status_code == 202
    admin.poll(response.json()["location"]).expect_error(
        "SYS.1007", f"field[name] of message[{CREATE_PROJECT}] is mandatory, can not be null"
    )


# --- webhooks ------------------------------------------------------------------------------------


@dataclass
class Listener:
    url: str
    received: queue.Queue[tuple[dict[str, str], bytes]]
    fail_first: list[int] = field(default_factory=lambda: [0])

    def next(self, timeout: float = 15) -> tuple[dict[str, str], bytes]:
        return self.received.get(timeout=timeout)


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A real HTTP receiver on 127.0.0.1; it answers 500 to the first ``fail_first[0]`` deliveries."""
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
    fail_first = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.put(({k.lower(): v for k, v in self.headers.items()}, body))
            status = 500 if fail_first[0] > 0 else 200
            fail_first[0] -= 1
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Listener(f"http://127.0.0.1:{httpd.server_address[1]}/hook", received, fail_first)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_web_hook_receives_the_poll_body_with_job_headers(admin: ZStackClient, listener: Listener) -> None:
    job, name = job_uuid(), unique("hook")
    response = admin.send(
        "POST", PROJECTS, body={"params": {"name": name}}, headers={"X-Job-UUID": job, "X-Web-Hook": listener.url}
    )
    assert response.status_code == 202
    headers, body = listener.next()
    assert headers["x-job-uuid"] == job
    assert headers["x-job-success"] == "true"
    assert headers["content-type"].startswith("application/json")
    poll = poll_text(response.json()["location"])
    assert poll.status_code == 200
    assert body == poll.content
    assert json.loads(body)["inventory"]["name"] == name


def test_web_hook_reports_failures(admin: ZStackClient, listener: Listener) -> None:
    job = job_uuid()
    response = admin.send(
        "POST", PROJECTS, body={"params": {}}, headers={"X-Job-UUID": job, "X-Web-Hook": listener.url}
    )
    assert response.status_code == 202
    headers, body = listener.next()
    assert headers["x-job-uuid"] == job
    assert headers["x-job-success"] == "false"
    poll = poll_text(response.json()["location"])
    assert poll.status_code == 503 and body == poll.content
    assert json.loads(body)["error"]["code"] == "SYS.1007"


def test_web_hook_is_retried_until_the_receiver_accepts(admin: ZStackClient, listener: Listener) -> None:
    listener.fail_first[0] = 2
    job = job_uuid()
    headers = {"X-Job-UUID": job, "webhook": listener.url}  # zssdk's misspelt header name is honoured too
    response = admin.send("POST", PROJECTS, body={"params": {"name": unique("hook")}}, headers=headers)
    assert response.status_code == 202
    deliveries = [listener.next() for _ in range(3)]
    assert {headers["x-job-uuid"] for headers, _ in deliveries} == {job}
    assert len({body for _, body in deliveries}) == 1
    with pytest.raises(queue.Empty):
        listener.next(timeout=1)  # accepted on the third attempt: no more deliveries


# --- request bodies ------------------------------------------------------------------------------


def test_tags_are_accepted_inside_the_wrapper_and_at_the_top_level(admin: ZStackClient) -> None:
    inside = admin.post(PROJECTS, {"name": unique("tags"), "systemTags": ["k::v"], "userTags": ["mine"]})
    assert inside.status == 200
    top = admin.post(PROJECTS, {"name": unique("tags")}, systemTags=["k::v"], userTags=["mine"])
    assert top.status == 200


def test_top_level_tags_win_over_the_wrapper(admin: ZStackClient) -> None:
    good_on_top = unique("tags")
    assert admin.post(PROJECTS, {"name": good_on_top, "systemTags": [1]}, systemTags=["k::v"]).status == 200
    bad_on_top = unique("tags")
    error = admin.post(PROJECTS, {"name": bad_on_top, "systemTags": ["k::v"]}, systemTags=[1]).expect_error("SYS.1007")
    assert "systemTags" in error["details"]
    assert projects_named(admin, bad_on_top) == []


def test_url_variables_override_body_fields(admin: ZStackClient, world: World) -> None:
    target, bystander = world.project(), world.project()
    updated = admin.action(
        f"{PROJECTS}/{target['uuid']}/actions",
        "updateIAM2Project",
        {"uuid": bystander["uuid"], "description": "from the url"},
    ).inventory
    assert updated["uuid"] == target["uuid"]
    assert updated["description"] == "from the url"
    assert "description" not in projects_named(admin, bystander["name"])[0]


def test_unknown_fields_are_ignored(admin: ZStackClient) -> None:
    name = unique("extra")
    reply = admin.post(PROJECTS, {"name": name, "cpuNum": 4, "requestIp": "10.0.0.1", "nested": {"a": [1]}}, extra=1)
    assert reply.inventory["name"] == name
    assert "cpuNum" not in reply.inventory


def test_post_with_another_single_wrapper_is_accepted(admin: ZStackClient) -> None:
    # Some Go SDK versions wrap POST bodies in the action name instead of 'params'.
    name = unique("gosdk")
    assert admin.call("POST", PROJECTS, body={"createIAM2Project": {"name": name}}).inventory["name"] == name


@pytest.mark.parametrize("body", [{"noSuchAction": {"name": "x"}}, {}, None])
def test_put_without_a_known_action_key_is_plain_400(world: World, body: dict[str, Any] | None) -> None:
    project = world.project()
    path = f"{PROJECTS}/{project['uuid']}/actions"
    response = world.admin.send("PUT", path, body=body)
    assert response.status_code == 400
    assert response.text == f"the body doesn't contain action mapping to the URL[/zstack/v1{path}]"
    assert projects_named(world.admin, project["name"]) == [project]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_unknown_path_is_plain_404(admin: ZStackClient, method: str) -> None:
    response = admin.send(method, "/no-such-things/abc")
    assert response.status_code == 404
    assert response.text == "no api mapping to /zstack/v1/no-such-things/abc"
    assert is_plain_text(response)


def test_a_method_no_api_answers_is_405(admin: ZStackClient) -> None:
    response = admin.send("PATCH", PROJECTS, body={"params": {"name": unique("patch")}})
    assert response.status_code == 405 and is_plain_text(response)


# --- data conventions ----------------------------------------------------------------------------


def _local_from_wire(text: str) -> datetime:
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    date_part, year_time = text.split(", ")
    month, day = date_part.split(" ")
    year, clock, half = year_time.split(" ")
    hour, minute, second = (int(x) for x in clock.split(":"))
    hour = hour % 12 + (12 if half == "PM" else 0)
    return datetime(int(year), months.index(month) + 1, int(day), hour, minute, second)


def test_dates_uuids_and_omitted_nulls(admin: ZStackClient) -> None:
    response = admin.send("POST", PROJECTS, body={"params": {"name": unique("shape")}})
    poll = poll_text(response.json()["location"])
    assert poll.status_code == 200
    assert b"null" not in poll.content
    inventory = poll.json()["inventory"]
    assert "description" not in inventory  # created without one: omitted, not null
    for key in ("createDate", "lastOpDate"):
        assert ZSTACK_DATE.fullmatch(inventory[key]), inventory[key]
        # The service's local time, like a management node's (same machine, same zone as this test).
        assert abs((_local_from_wire(inventory[key]) - datetime.now()).total_seconds()) < 120
    for key in ("uuid", "linkedAccountUuid"):
        assert ZSTACK_UUID.fullmatch(inventory[key]), inventory[key]
    assert inventory["state"] == "Enabled"
    assert inventory["attributes"] == []
    queried = projects_named(admin, inventory["name"])
    assert queried == [inventory]


def test_session_dates_use_the_zstack_format(anonymous: ZStackClient, server: ServerProcess) -> None:
    session = anonymous.login_account("admin", server.admin_password).inventory
    assert ZSTACK_DATE.fullmatch(session["createDate"]) and ZSTACK_DATE.fullmatch(session["expiredDate"])
    assert ZSTACK_UUID.fullmatch(session["uuid"])


# --- bad input: the right ErrorCode, and nothing written -----------------------------------------


def test_missing_required_field(admin: ZStackClient) -> None:
    marker = unique("orphan")
    admin.post(PROJECTS, {"description": marker}).expect_error(
        "SYS.1007", f"field[name] of message[{CREATE_PROJECT}] is mandatory, can not be null"
    )
    assert admin.query(PROJECTS, f"description={marker}").inventories == []


def test_blank_required_field(admin: ZStackClient) -> None:
    marker = unique("blank")
    admin.post(PROJECTS, {"name": "   ", "description": marker}).expect_error(
        "SYS.1007", "field[name] cannot be an empty string"
    )
    assert admin.query(PROJECTS, f"description={marker}").inventories == []


def test_name_longer_than_255_characters(admin: ZStackClient) -> None:
    prefix = unique("long")
    too_long = prefix + "x" * (256 - len(prefix))
    admin.post(PROJECTS, {"name": too_long}).expect_error(
        "SYS.1007",
        f"field[name] of message[{CREATE_PROJECT}] exceeds max length of string. expected was <= 255, actual was 256",
    )
    assert admin.query(PROJECTS, f"name~={prefix}%").inventories == []
    longest = too_long[:255]
    assert admin.post(PROJECTS, {"name": longest}).inventory["name"] == longest


@pytest.mark.parametrize("event", ["explode", "Disable", "ENABLE"])
def test_wrong_enum_value(world: World, event: str) -> None:
    project = world.project()
    reply = world.admin.action(f"{PROJECTS}/{project['uuid']}/actions", "changeIAM2ProjectState", {"stateEvent": event})
    reply.expect_error(
        "SYS.1007",
        "valid value for field[stateEvent] of message[org.zstack.iam2.api.APIChangeIAM2ProjectStateMsg] "
        f"are [enable, disable], but {event} found",
    )
    assert projects_named(world.admin, project["name"]) == [project]  # still Enabled, lastOpDate unchanged


@pytest.mark.parametrize("raw", [b'{"params": ', b'{"params": {"name": "NAME"', b"[1, 2]", b"not json"])
def test_malformed_json_body_is_202_then_sys_1007(admin: ZStackClient, raw: bytes) -> None:
    # ZStack's catch-all answers 500 text here; this service reports it as an API error through the
    # job, so SDK users see a real error code (rest_v1.RestCodec._read_body).
    name = unique("badjson")
    content = raw.replace(b"NAME", name.encode())
    before = admin.query(PROJECTS, count="true").body["total"]
    response = admin.http.post(PROJECTS, content=content, headers=admin._headers())
    assert response.status_code == 202
    reply = admin.poll(response.json()["location"])
    error = reply.expect_error("SYS.1007")
    assert error["details"].startswith(("the request body is not valid JSON", "the request body must be a JSON object"))
    assert projects_named(admin, name) == []
    assert admin.query(PROJECTS, count="true").body["total"] == before


def test_wrong_types(admin: ZStackClient, world: World) -> None:
    name = unique("types")
    error = admin.post(PROJECTS, {"name": {"first": name}}).expect_error("SYS.1007")
    assert "field[name]" in error["details"]
    admin.post(PROJECTS, {"name": name, "attributes": "not-a-list-of-maps"}).expect_error("SYS.1007")
    admin.post(PROJECTS, {"name": name, "tagUuids": [{"a": 1}]}).expect_error("SYS.1007")
    assert projects_named(admin, name) == []

    project = world.project()
    collection = unique("collection")
    error = admin.post(
        "/tickets/flow-collections", {"name": collection, "projectUuid": project["uuid"], "isDefault": "maybe"}
    ).expect_error("SYS.1007")
    assert "field[isDefault]" in error["details"]
    assert admin.query("/tickets/flow-collections", f"name={collection}").inventories == []


def test_wrong_type_in_a_query_string_message(admin: ZStackClient, world: World) -> None:
    project = world.project()
    admin.delete(f"{PROJECTS}/{project['uuid']}", deleteMode="Sometimes").expect_error("SYS.1007")
    assert projects_named(admin, project["name"])[0]["state"] == "Enabled"


def test_body_larger_than_the_limit_is_413(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(max_body_bytes="2000")
    client = ZStackClient(server.base_url)
    client.session = client.login_account("admin", server.admin_password).inventory["uuid"]
    name = unique("big")
    big = {"params": {"name": name, "description": "d" * 3000}}

    sized = client.send("POST", PROJECTS, body=big)
    assert sized.status_code == 413 and is_plain_text(sized)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        data = json.dumps(big).encode()
        for i in range(0, len(data), 500):
            yield data[i : i + 500]

    streamed = client.http.post(PROJECTS, content=chunks(), headers=client._headers())
    assert streamed.status_code == 413

    rpc = httpx.post(f"{server.base_url}/zstack/api", json={CREATE_PROJECT: big["params"]})
    assert rpc.status_code == 413

    assert projects_named(client, name) == []
    small = client.post(PROJECTS, {"name": name, "description": "d" * 1000})
    assert small.inventory["name"] == name
    client.close()


def test_virtual_id_password_is_required(admin: ZStackClient) -> None:
    name = unique("vid")
    admin.post("/iam2/virtual-ids", {"name": name}).expect_error(
        "SYS.1007",
        "field[password] of message[org.zstack.iam2.api.APICreateIAM2VirtualIDMsg] is mandatory, can not be null",
    )
    assert admin.query("/iam2/virtual-ids", f"name={name}").inventories == []
    assert admin.post("/iam2/virtual-ids", {"name": name, "password": sha512("pw")}).status == 200
