"""Reliability: every API of the catalogue fuzzed with malformed requests, then the database checked.

Hypothesis builds requests for each API in ``zsticket.messages.catalogue.ALL_APIS``: random and
malformed bodies (random JSON in place of the wrapper and of each declared parameter, wrong
types, 100k-character strings, deeply nested JSON, bytes that are not JSON, bad uuids), random
query strings, bad ``X-Job-UUID`` and ``Authorization`` headers, sent as admin, as a virtual ID or
without a session. Only the protocol is asserted (rest-conventions §4-§6): never a 500, no
internal error (``SYS.1000``), no traceback or driver name in a body, and every answer is an
ErrorCode JSON (503, or on the poll of a 202 job), a success envelope, or a plain-text
400/404/405/413. Afterwards the database itself is read directly and its invariants checked.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session as DbSession

from tests.servers import ServerProcess
from tests.zstack_client import (
    ADMIN_UUID,
    CREATE_VM,
    SYSTEM_COLLECTION,
    VM_TICKET_TYPE,
    ZStackClient,
    sha512,
    unique,
    vm_request,
)
from zsticket.messages.catalogue import ALL_APIS, BY_CLASS_NAME
from zsticket.messages.params import Kind, Param
from zsticket.messages.spec import ApiKind, ApiSpec
from zsticket.store.tables import Flow, FlowCollection, Ticket, TicketStatusHistory

VARIABLE = re.compile(r"\{(\w+)\}")
FORBIDDEN_WORDS = ("traceback", "sqlalchemy", "psycopg")
PLAIN_STATUSES = {400, 404, 405, 413}
ERROR_CODE = re.compile(r"^[A-Z]+\.\d{4}$")
HUGE = 100_000
DEEP = 5_000
IN_PROGRESS = ("Pending", "IntermediateApproved")
EXAMPLES = int(os.environ.get("ZSTICKET_FUZZ_EXAMPLES", "12"))  # raise it for a deeper local run
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ALL_NAMES = [api.class_name for api in ALL_APIS]
QUERY_NAMES = [api.class_name for api in ALL_APIS if api.kind is ApiKind.QUERY]
BODY_NAMES = [api.class_name for api in ALL_APIS if api.method in ("POST", "PUT")]
QUERY_STRING_NAMES = [api.class_name for api in ALL_APIS if api.method in ("GET", "DELETE")]


def api_id(class_name: str) -> str:
    return class_name.rsplit(".", 1)[-1]


# --- who sends, and which real uuids the requests may name ---------------------------------------------


@dataclass
class Env:
    """Module-wide: an admin and a virtual ID that are never the target of a fuzzed request."""

    server: ServerProcess
    http: httpx.Client
    admin: ZStackClient
    vid_session: str
    vid_uuid: str
    vid_project: str
    log_offset: int
    answers: Counter[str] = field(default_factory=Counter)

    def __repr__(self) -> str:
        return f"Env(admin={self.admin.session}, vid={self.vid_uuid})"


@dataclass
class Pool:
    """Sacrificial resources of one test: fuzzed requests may change or delete any of them."""

    project: str
    vid: str
    session: str
    attribute: str
    approver: str
    collection: str
    flows: list[str]
    ticket: str
    used_job: str  # the X-Job-UUID that created the ticket: reusing it is a duplicate

    def __repr__(self) -> str:
        return f"Pool(ticket={self.ticket})"

    def uuids(self) -> list[str]:
        return [self.project, self.vid, self.attribute, self.approver, self.collection, *self.flows, self.ticket]

    def for_variable(self, path: str, name: str) -> str:
        """The real resource a path variable names (never the system default collection)."""
        if name == "sessionUuid":
            return self.session
        if name == "projectUuid" or path.startswith("/iam2/projects"):
            return self.project
        if path.startswith("/iam2/virtual-ids"):
            return self.vid
        if name == "ticketFlowCollectionUuid" or path.startswith("/tickets/flow-collections"):
            return self.collection
        if path.startswith("/tickets/flow"):
            return self.flows[0]
        return self.ticket


@pytest.fixture(scope="module")
def env(server: ServerProcess) -> Iterator[Env]:
    admin = ZStackClient(server.base_url)
    admin.session = admin.login_account("admin", server.admin_password).inventory["uuid"]
    project = admin.post("/iam2/projects", {"name": unique("fuzz-home")}).inventory["uuid"]
    name, password = unique("fuzz-actor"), unique("pw")
    vid = admin.post("/iam2/virtual-ids", {"name": name, "password": sha512(password), "projectUuid": project})
    session = admin.login_vid(name, password).inventory["uuid"]
    http = httpx.Client(base_url=f"{server.base_url}/zstack/v1", timeout=60)
    yield Env(server, http, admin, session, vid.inventory["uuid"], project, len(server.log()))
    http.close()
    admin.close()


@pytest.fixture
def pool(env: Env) -> Pool:
    admin = env.admin
    project = admin.post("/iam2/projects", {"name": unique("fuzz-pool")}).inventory["uuid"]
    name, password = unique("fuzz-vid"), unique("pw")
    vid = admin.post(
        "/iam2/virtual-ids",
        {
            "name": name,
            "password": sha512(password),
            "projectUuid": project,
            "attributes": [{"name": "color", "value": "blue"}],
        },
    ).inventory
    client = admin.as_session(admin.login_vid(name, password).inventory["uuid"])
    approver = admin.post(
        "/iam2/virtual-ids",
        {"name": unique("fuzz-boss"), "password": sha512("pw"), "attributes": [{"name": "__SystemAdmin__"}]},
    ).inventory["uuid"]
    flows = [{"name": "one", "approverUuid": vid["uuid"]}, {"name": "two", "approverUuid": approver}]
    collection = admin.post(
        "/tickets/flow-collections",
        {"name": unique("fuzz"), "projectUuid": project, "flows": flows, "ticketTypeUuids": [VM_TICKET_TYPE]},
    ).inventory
    used_job = secrets.token_hex(16)
    ticket = client.call(
        "POST",
        "/tickets",
        body={
            "params": {
                "name": unique("fuzz"),
                "requests": [vm_request()],
                "accountSystemType": "iam2",
                "accountSystemContext": {"projectUuid": project, "virtualIDUuid": vid["uuid"]},
            }
        },
        headers={"X-Job-UUID": used_job},
    ).inventory["uuid"]
    client.close()
    return Pool(
        project=project,
        vid=vid["uuid"],
        session=str(client.session),
        attribute=vid["attributes"][0]["uuid"],
        approver=approver,
        collection=collection["uuid"],
        flows=[f["uuid"] for f in collection["flows"]],
        ticket=ticket,
        used_job=used_job,
    )


# --- strategies ------------------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "\x00", "null", "true", "0", "-1", "1e400", "🎫", "\u202e"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
BAD_UUIDS = st.sampled_from(
    [
        "",
        "x",
        "not-a-uuid",
        "0" * 31,
        "0" * 33,
        "g" * 32,
        "A" * 32,
        "../../etc/passwd",
        "36c27e8f-f05c-4780-bf6d-2fa65700f22e",
        "%00",
        "中文" * 16,
        "u" * 300,
    ]
) | st.text(min_size=1, max_size=40)
HEX32 = st.binary(min_size=16, max_size=16).map(bytes.hex)
EVENTS = ["open", "approve", "cancel", "reject", "reopen", "delete", "APPROVE", ""]
TITLES = ["SystemAdmin", "ProjectAdmin", "ProjectOperator", "OrganizationSupervisor", "PlatformAdmin", "Boss"]
BAD_JSON = [
    b"",
    b"   ",
    b"{",
    b'{"params": ',
    b"not json",
    b"\xff\xfe\xfd",
    b"[1, 2",
    b"NaN",
    b'{"params": {"name": NaN}}',
    b'{"params": {"name": "x", "attributes": [{"name": "a", "value": Infinity}]}}',
    b'{"params": {"name": "\\ud800"}}',
    b'{"params": {"name": "x", "description": "\\udfff"}}',
    b'{"params": {"name": "a\\u0000b"}}',
    b"{" * DEEP,
    b"[" * DEEP + b"]" * DEEP,
    b'{"a": 1, "a": 2}',
    b"\x00\x00\x00",
]


def real_uuids(pool: Pool, env: Env) -> st.SearchStrategy[str]:
    """Real uuids, for parameters (path variables never name the system default collection)."""
    fixed = [env.vid_uuid, env.vid_project, ADMIN_UUID, VM_TICKET_TYPE, SYSTEM_COLLECTION]
    return st.sampled_from([*pool.uuids(), *fixed])


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def plausible(param: Param, pool: Pool, env: Env) -> st.SearchStrategy[Any]:
    """A value close to what the parameter expects, so that requests reach the deeper checks."""
    uuids = real_uuids(pool, env)
    by_name: dict[str, st.SearchStrategy[Any]] = {
        "requests": st.lists(
            st.fixed_dictionaries(
                {"apiName": st.sampled_from([CREATE_VM, "org.zstack.header.vm.APIDestroyVmInstanceMsg"]) | SCALARS},
                optional={
                    "requestName": SCALARS,
                    "executeTimes": st.integers() | st.floats(allow_nan=False) | SCALARS,
                    "apiBody": st.just(vm_request()["apiBody"]) | JSON_VALUES,
                },
            )
            | JSON_VALUES,
            max_size=3,
        ),
        "accountSystemContext": st.fixed_dictionaries(
            {},
            optional={
                "projectUuid": st.sampled_from([pool.project, env.vid_project]) | SCALARS,
                "virtualIDUuid": st.sampled_from([pool.vid, env.vid_uuid]) | SCALARS,
            },
        ),
        "flows": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "name": SCALARS,
                    "approverUuid": uuids | SCALARS,
                    "approverTitle": st.sampled_from(TITLES) | SCALARS,
                    "description": SCALARS,
                },
            )
            | JSON_VALUES,
            max_size=3,
        ),
        "attributes": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "name": st.sampled_from(["__ProjectAdmin__", "__SystemAdmin__", "color", "n" * 300]) | SCALARS,
                    "value": uuids | st.just("v" * 3000) | JSON_VALUES,
                },
            )
            | JSON_VALUES,
            max_size=3,
        ),
        "statusEvent": st.sampled_from(EVENTS) | SCALARS,
        "stateEvent": st.sampled_from(["enable", "disable", "Enable", ""]) | SCALARS,
        "deleteMode": st.sampled_from(["Permissive", "Enforcing", "", "enforcing"]) | SCALARS,
        "accountSystemType": st.sampled_from(["iam2", "IAM2", ""]) | SCALARS,
        "approverTitle": st.sampled_from(TITLES) | SCALARS,
        "password": HEX32.map(lambda h: h * 4) | st.text(max_size=300),
        "ticketTypeUuids": st.lists(st.sampled_from([VM_TICKET_TYPE]) | uuids | BAD_UUIDS, max_size=3),
        "virtualIDUuids": st.lists(st.sampled_from([pool.vid, pool.approver]) | BAD_UUIDS, max_size=3),
        "attributeUuids": st.lists(st.just(pool.attribute) | BAD_UUIDS, max_size=3),
        "name": st.text(max_size=300) | st.just("n" * 256),
        "projectName": st.text(max_size=300),
        "duration": st.integers() | SCALARS,
    }
    if param.name in by_name:
        return by_name[param.name]
    if param.uuid:
        return uuids | HEX32 | BAD_UUIDS
    kinds: dict[Kind, st.SearchStrategy[Any]] = {
        Kind.STRING: st.text(max_size=60),
        Kind.INT: st.integers(),
        Kind.BOOL: st.booleans() | st.sampled_from(["true", "FALSE", "maybe", 1]),
        Kind.LIST: st.lists(st.text(max_size=20) | uuids, max_size=4),
        Kind.MAP: st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=4),
        Kind.ANY: JSON_VALUES,
    }
    return kinds[param.kind]


def param_value(param: Param, pool: Pool, env: Env) -> st.SearchStrategy[Any]:
    return st.one_of(
        plausible(param, pool, env),
        plausible(param, pool, env),
        JSON_VALUES,
        real_uuids(pool, env),
        BAD_UUIDS,
        st.just("h" * HUGE),
    )


def fields_for(data: st.DataObject, api: ApiSpec, pool: Pool, env: Env) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for param in api.all_params:
        if data.draw(st.booleans(), label=f"send {param.name}"):
            fields[param.name] = data.draw(param_value(param, pool, env), label=param.name)
    if data.draw(st.booleans(), label="unknown field"):
        fields[data.draw(st.text(max_size=12), label="unknown name")] = data.draw(JSON_VALUES, label="unknown value")
    if fields.get("accountName") == "admin":  # never lock the real admin out (login throttling)
        fields["accountName"] = "admin-fuzz"
    return fields


def wrappers_at(api: ApiSpec) -> list[str]:
    """Every wrapper key that selects an API at this API's path and method (shared PUT URLs)."""
    return sorted({a.wrapper for a in ALL_APIS if a.path == api.path and a.method == api.method and a.wrapper})


def json_body(data: st.DataObject, api: ApiSpec, pool: Pool, env: Env) -> bytes:
    shape = data.draw(
        st.sampled_from(
            ["fields", "fields", "fields", "fields", "wrapper-value", "not-object", "bytes", "bad-json"]
            + ["deep-param", "deep-body", "huge", "other-wrapper", "other-action"]
        ),
        label="body shape",
    )
    wrapper = api.wrapper or "params"
    fields = fields_for(data, api, pool, env)
    if shape == "fields":
        body: Any = {wrapper: fields}
        for tag in ("systemTags", "userTags"):
            if data.draw(st.booleans(), label=f"top-level {tag}"):
                body[tag] = data.draw(st.lists(st.text(max_size=20), max_size=3) | JSON_VALUES, label=tag)
        return json.dumps(body).encode()
    if shape == "wrapper-value":
        return json.dumps({wrapper: data.draw(JSON_VALUES, label="wrapper value")}).encode()
    if shape == "not-object":
        value = data.draw(JSON_VALUES.filter(lambda v: not isinstance(v, dict)), label="body")
        return json.dumps(value).encode()
    if shape == "bytes":
        return data.draw(st.binary(max_size=200), label="raw bytes")
    if shape == "bad-json":
        return data.draw(st.sampled_from(BAD_JSON), label="bad json")
    if shape in ("deep-param", "deep-body"):
        depth = data.draw(st.sampled_from([DEEP, 1500, 990, 950, 900, 700, 500, 200, 100]), label="depth")
        if shape == "deep-body":
            return ("{" + f'"{wrapper}": ' + nested(depth) + "}").encode()
        name = data.draw(st.sampled_from([p.name for p in api.all_params]), label="deep param")
        text = json.dumps({wrapper: {**fields, name: "@@DEEP@@"}})
        return text.replace('"@@DEEP@@"', nested(depth)).encode()
    if shape == "huge":
        name = data.draw(st.sampled_from([p.name for p in api.all_params]), label="huge param")
        return json.dumps({wrapper: {**fields, name: "h" * HUGE}}).encode()
    if shape == "other-action":
        return json.dumps({data.draw(st.sampled_from(wrappers_at(api)), label="action"): fields}).encode()
    return json.dumps({data.draw(st.text(max_size=20), label="wrapper key"): fields}).encode()


def query_items(data: st.DataObject, api: ApiSpec, pool: Pool, env: Env) -> list[tuple[str, str]]:
    """Query strings: declared parameters of GET/DELETE APIs, or q/limit/sort/... of query APIs."""
    items: list[tuple[str, str]] = []
    text = st.text(max_size=40) | real_uuids(pool, env) | st.just("q" * 3000)
    if api.kind is ApiKind.QUERY:
        assert api.query is not None
        names = st.sampled_from(sorted(api.query.fields)) | st.sampled_from(["nope", "", "uuid ", "request"])
        names |= st.text(max_size=15)
        ops = st.sampled_from(["!=", ">=", "<=", "!?=", "!~=", "~=", "?=", "=", ">", "<", " is null", " not null"])
        values = (
            text
            | st.integers().map(str)
            | st.sampled_from(["true", "2024-01-01 00:00:00", "0001-01-01", "9999-12-31 23:59:59", "%", "_"])
            | st.sampled_from(["a,b,", ",", "Pending,Rejected", str(2**63), str(-(2**63) - 1), "1.5", "1e999"])
        )
        for _ in range(data.draw(st.integers(0, 3), label="conditions")):
            condition = data.draw(names, label="q field") + data.draw(ops, label="op") + data.draw(values, label="v")
            if data.draw(st.integers(0, 9), label="no operator") == 0:
                condition = data.draw(st.text(max_size=30), label="raw q")
            items.append(("q", condition))
        numbers = st.integers().map(str) | st.sampled_from(["", "abc", "1.0", str(2**31), str(2**64), "-1", " 7 "])
        for key in ("limit", "start"):
            if data.draw(st.booleans(), label=f"send {key}"):
                items.append((key, data.draw(numbers, label=key)))
        for key in ("count", "replyWithCount"):
            if data.draw(st.integers(0, 3), label=f"send {key}") == 0:
                items.append((key, data.draw(st.sampled_from(["true", "True", "false", "yes", ""]), label=key)))
        if data.draw(st.booleans(), label="send sort"):
            sign = data.draw(st.sampled_from(["", "+", "-", " "]), label="sign")
            items.append(("sort", sign + data.draw(names, label="sort field")))
        if data.draw(st.integers(0, 3), label="send fields") == 0:
            chosen = data.draw(st.lists(names, max_size=4), label="fields")
            items.append(("fields", ",".join(chosen)))
    else:
        for param in api.all_params:
            if data.draw(st.booleans(), label=f"send {param.name}"):
                key = param.name + data.draw(st.sampled_from(["", "", "", ".0", ".1", ".key"]), label="key form")
                items.append((key, data.draw(text, label=param.name)))
    if data.draw(st.integers(0, 4), label="junk parameter") == 0:
        items.append((data.draw(st.text(max_size=10), label="junk key"), data.draw(text, label="junk value")))
    return items


def path_for(data: st.DataObject, api: ApiSpec, pool: Pool) -> str:
    template = data.draw(st.sampled_from([api.path, *api.optional_paths]), label="path")

    def substitute(match: re.Match[str]) -> str:
        real = pool.for_variable(template, match.group(1))
        value = data.draw(st.one_of(st.just(real), st.just(real), HEX32, BAD_UUIDS), label=match.group(1))
        return quote(value, safe="")

    return VARIABLE.sub(substitute, template)


def headers_for(data: st.DataObject, api: ApiSpec, pool: Pool, env: Env) -> dict[str, str]:
    headers: dict[str, str] = {}
    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
    auth = data.draw(
        st.sampled_from(["admin", "admin", "admin", "vid", "none", "unknown", "odd"]), label="authorization"
    )
    if auth == "admin":
        headers["Authorization"] = f"OAuth {env.admin.session}"
    elif auth == "vid":
        headers["Authorization"] = f"OAuth {env.vid_session}"
    elif auth == "unknown":
        headers["Authorization"] = "OAuth " + data.draw(HEX32 | printable, label="session")
    elif auth == "odd":
        headers["Authorization"] = data.draw(
            st.sampled_from(["OAuth", "OAuth ", "oauth x", "Bearer abc", "ZStack ak:sig", "Basic Zm9vOmJhcg==", ""])
            | printable,
            label="odd authorization",
        )
    job = data.draw(st.sampled_from(["none", "none", "hex", "length", "chars", "duplicate"]), label="job")
    if job == "hex":
        headers["X-Job-UUID"] = data.draw(HEX32, label="job uuid")
    elif job == "length":
        headers["X-Job-UUID"] = data.draw(printable.filter(lambda s: len(s.strip()) != 32), label="job uuid")
    elif job == "chars":
        headers["X-Job-UUID"] = data.draw(
            st.text(st.sampled_from("abcdefXYZ0123456789-_."), min_size=32, max_size=32), label="job uuid"
        )
    elif job == "duplicate":
        headers["X-Job-UUID"] = pool.used_job
    if data.draw(st.integers(0, 4), label="send timeout") == 0:
        headers["X-API-Timeout"] = data.draw(printable | st.integers().map(str), label="timeout")
    if data.draw(st.integers(0, 4), label="send content type") == 0:
        headers["Content-Type"] = data.draw(
            st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]) | printable,
            label="content type",
        )
    if data.draw(st.integers(0, 4), label="send schema") == 0:
        headers["X-JSON-Schema"] = "true"
    return {k: v.strip() for k, v in headers.items()}  # HTTP itself drops surrounding whitespace


# --- what a protocol answer looks like --------------------------------------------------------------------


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"the body is not standard JSON: it contains {constant}")

    return json.loads(text, parse_constant=refuse)


def assert_error_body(body: Any) -> None:
    assert isinstance(body, dict) and list(body) == ["error"], body
    error = body["error"]
    assert isinstance(error, dict), body
    for key in ("code", "description", "details"):
        assert isinstance(error.get(key), str), body
    assert ERROR_CODE.match(error["code"]), body
    assert error["code"] != "SYS.1000", f"internal error: {body}"


def assert_success_body(api: ApiSpec, body: Any) -> None:
    assert isinstance(body, dict) and "error" not in body, body
    if api.kind is ApiKind.QUERY:
        assert isinstance(body.get("inventories", []), list) and ("inventories" in body or "total" in body), body


def assert_clean(response: httpx.Response) -> None:
    assert response.status_code != 500, response.text
    lowered = response.text.lower()
    for word in FORBIDDEN_WORDS:
        assert word not in lowered, response.text


def assert_protocol_answer(env: Env, api: ApiSpec, response: httpx.Response) -> None:
    assert_clean(response)
    status = response.status_code
    if status in PLAIN_STATUSES:
        assert response.headers.get("content-type", "").startswith("text/plain"), response.headers
        assert response.text.strip(), "an empty plain-text refusal"
        env.answers[f"plain {status}"] += 1
        return
    body = strict_json(response.text)
    if status == 202:
        assert api.kind is ApiKind.ASYNC, f"{api.simple_name} answered 202"
        assert set(body) == {"location", "apiTimeout"} and isinstance(body["apiTimeout"], int), body
        assert "/zstack/v1/api-jobs/" in body["location"], body
        assert_poll_answer(env, api, body["location"])
    elif status == 200:
        assert api.kind is not ApiKind.ASYNC, f"async {api.simple_name} answered 200 without a job"
        assert_success_body(api, body)
        env.answers["success"] += 1
    elif status == 503:
        assert api.kind is not ApiKind.ASYNC, f"async {api.simple_name} answered 503 without a job"
        assert_error_body(body)
        env.answers[body["error"]["code"]] += 1
    else:
        raise AssertionError(f"{api.simple_name}: unexpected HTTP {status}: {response.text[:500]}")


def assert_poll_answer(env: Env, api: ApiSpec, location: str) -> None:
    for _ in range(100):
        polled = env.http.get(location)
        if polled.status_code != 202:
            break
    assert_clean(polled)
    assert polled.status_code in (200, 503), f"poll of {location}: {polled.status_code} {polled.text[:300]}"
    body = strict_json(polled.text)
    if polled.status_code == 200:
        assert_success_body(api, body)
        env.answers["job success"] += 1
    else:
        assert_error_body(body)
        env.answers[f"job {body['error']['code']}"] += 1


def send(env: Env, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return env.http.request(method, path, **kwargs)


# --- the fuzzing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_NAMES, ids=api_id)
@FUZZ_SETTINGS
@given(data=st.data())
def test_every_api_answers_fuzzed_requests_with_the_protocol(env: Env, pool: Pool, name: str, data: Any) -> None:
    api = BY_CLASS_NAME[name]
    path = path_for(data, api, pool)
    headers = headers_for(data, api, pool, env)
    kwargs: dict[str, Any] = {"headers": headers}
    if api.method in ("POST", "PUT"):
        kwargs["content"] = json_body(data, api, pool, env)
    else:
        kwargs["params"] = query_items(data, api, pool, env)
        if data.draw(st.integers(0, 9), label="body on GET/DELETE") == 0:
            kwargs["content"] = data.draw(st.sampled_from(BAD_JSON), label="ignored body")
    assert_protocol_answer(env, api, send(env, api.method, path, **kwargs))


@pytest.mark.parametrize("name", QUERY_NAMES, ids=api_id)
@settings(FUZZ_SETTINGS, max_examples=2 * EXAMPLES)
@given(data=st.data())
def test_query_strings_are_answered_with_the_protocol(env: Env, pool: Pool, name: str, data: Any) -> None:
    api = BY_CLASS_NAME[name]
    who = data.draw(st.sampled_from([env.admin.session, env.admin.session, env.vid_session]), label="session")
    response = send(
        env, "GET", api.path, params=query_items(data, api, pool, env), headers={"Authorization": f"OAuth {who}"}
    )
    assert_protocol_answer(env, api, response)


@pytest.mark.parametrize("name", BODY_NAMES, ids=api_id)
def test_extreme_bodies_on_every_api(env: Env, pool: Pool, name: str) -> None:
    """Deterministically, for every body-carrying API: 5000 levels, 100k characters, non-JSON bytes."""
    api = BY_CLASS_NAME[name]
    path = VARIABLE.sub(lambda m: pool.for_variable(api.path, m.group(1)), api.path)
    headers = {"Authorization": f"OAuth {env.admin.session}"}
    wrapper = api.wrapper or "params"
    bodies = [
        nested(DEEP).encode(),
        ("{" + f'"{wrapper}": ' + nested(DEEP) + "}").encode(),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        json.dumps({wrapper: {p.name: "h" * HUGE for p in api.all_params[:8]}}).encode(),
        *(
            json.dumps({wrapper: {p.name: "@@DEEP@@"}}).replace('"@@DEEP@@"', nested(depth)).encode()
            for p in api.all_params
            for depth in (DEEP, 900)
        ),
    ]
    for body in bodies:
        assert_protocol_answer(env, api, send(env, api.method, path, content=body, headers=headers))


@pytest.mark.parametrize("name", QUERY_STRING_NAMES, ids=api_id)
def test_extreme_query_strings_on_every_api(env: Env, pool: Pool, name: str) -> None:
    api = BY_CLASS_NAME[name]
    path = VARIABLE.sub(lambda m: pool.for_variable(api.path, m.group(1)), api.path)
    headers = {"Authorization": f"OAuth {env.admin.session}"}
    keys = ["q", "limit", "sort", "fields"] if api.kind is ApiKind.QUERY else [p.name for p in api.all_params]
    for key in keys:
        for value in ("v" * 30_000, "\x00", "%", "[" * 500, "=" * 100, "\ud7ff\ue000"):
            response = send(env, api.method, path, params=[(key, value)], headers=headers)
            assert_protocol_answer(env, api, response)


def test_body_larger_than_the_limit_is_refused_with_413(make_server) -> None:  # type: ignore[no-untyped-def]
    limited = make_server(max_body_bytes="4096")
    client = ZStackClient(limited.base_url)
    client.session = client.login_account("admin", limited.admin_password).inventory["uuid"]
    name = unique("big")
    for api in [a for a in ALL_APIS if a.method in ("POST", "PUT")]:
        body = json.dumps({api.wrapper or "params": {"name": name, "description": "d" * 4100}}).encode()
        response = client.http.request(api.method, api.path, content=body, headers=client._headers())
        assert response.status_code == 413, (api.simple_name, response.status_code, response.text)
        assert response.headers["content-type"].startswith("text/plain")
    assert client.query("/iam2/projects", f"name={name}").inventories == []
    small = client.post("/iam2/projects", {"name": name, "description": "d" * 2000})
    assert small.inventory["name"] == name
    client.close()


# --- afterwards: the database itself -----------------------------------------------------------------------


def test_the_server_logged_no_traceback_while_fuzzed(env: Env) -> None:
    written = env.server.log()[env.log_offset :]
    assert "Traceback" not in written, written[-5000:]


@pytest.fixture
def database(server: ServerProcess) -> Iterator[DbSession]:
    engine = create_engine(server.database_url)
    with DbSession(engine) as session:
        yield session
    engine.dispose()


def test_every_ticket_has_a_consistent_history(database: DbSession) -> None:
    tickets = {t.uuid: t for t in database.scalars(select(Ticket))}
    histories: dict[str, list[TicketStatusHistory]] = {uuid: [] for uuid in tickets}
    for row in database.scalars(select(TicketStatusHistory).order_by(TicketStatusHistory.sequence)):
        assert row.ticket_uuid in histories, f"history {row.uuid} of a ticket that does not exist"
        histories[row.ticket_uuid].append(row)
    assert tickets, "the fuzzing created no ticket"
    for uuid, ticket in tickets.items():
        rows = histories[uuid]
        assert rows, f"ticket {uuid} has no history"
        sequences = [r.sequence for r in rows]
        assert all(a < b for a, b in zip(sequences, sequences[1:], strict=False)), sequences
        first = rows[0]
        assert (first.from_status, first.to_status, first.operation_context_type) == (
            "Pending",
            "Pending",
            "StatusChanged",
        ), f"ticket {uuid} does not start with its creation record"
        for before, after in zip(rows, rows[1:], strict=False):
            assert after.from_status == before.to_status, f"ticket {uuid}: {before.to_status} -> {after.from_status}"
        changes = [r for r in rows if r.operation_context_type == "StatusChanged"]
        assert changes[-1].to_status == ticket.status, f"ticket {uuid} is {ticket.status}, history says otherwise"


def test_tickets_name_existing_collections_and_flows(database: DbSession) -> None:
    collections = set(database.scalars(select(FlowCollection.uuid)))
    flows = {f.uuid: f.collection_uuid for f in database.scalars(select(Flow))}
    for ticket in database.scalars(select(Ticket)):
        assert ticket.flow_collection_uuid in collections, (
            f"{ticket.status} ticket {ticket.uuid} names a deleted collection {ticket.flow_collection_uuid}"
        )
        if ticket.status in IN_PROGRESS:
            assert flows.get(str(ticket.current_flow_uuid)) == ticket.flow_collection_uuid, ticket.uuid
        if ticket.status == "FinalApproved":
            assert ticket.current_flow_uuid is None, ticket.uuid


def test_at_most_one_default_collection_per_project(database: DbSession) -> None:
    doubled = database.execute(
        select(FlowCollection.project_uuid, func.count())
        .where(FlowCollection.is_default.is_(True))
        .group_by(FlowCollection.project_uuid)
        .having(func.count() > 1)
    ).all()
    assert doubled == []


def test_every_collection_is_one_chain(database: DbSession) -> None:
    chains: dict[str, list[Flow]] = {}
    for flow in database.scalars(select(Flow)):
        chains.setdefault(flow.collection_uuid, []).append(flow)
    for collection, flows in chains.items():
        by_parent = {f.parent_flow_uuid: f for f in flows}
        assert len(by_parent) == len(flows), f"collection {collection}: two flows share a parent"
        walked, cursor = [], by_parent.get(None)
        while cursor is not None:
            walked.append(cursor.uuid)
            cursor = by_parent.get(cursor.uuid)
        assert sorted(walked) == sorted(f.uuid for f in flows), f"collection {collection} is not one chain"


def test_fuzzing_got_past_the_door(env: Env) -> None:
    """Fuzzing means something only if requests reached the APIs: jobs succeeded and failed, plain refusals too."""
    if not env.answers:
        pytest.skip("no fuzzing ran in this session")
    print(dict(env.answers))
    assert env.answers["job success"] > 0 and env.answers["success"] > 0
    assert env.answers["job SYS.1007"] > 0 and env.answers["plain 400"] > 0
