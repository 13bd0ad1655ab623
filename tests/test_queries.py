"""The generic query engine over real HTTP, against data created here (rest-conventions §7, rpc-endpoint).

One project holds five virtual IDs named ``<prefix>-alpha`` … ``<prefix>-echo``; a sixth,
``<prefix>-foxtrot``, shares the prefix but is outside the project. Most queries are restricted
with ``q=projects.uuid=<project>`` so other tests' data on the shared server cannot leak in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.servers import ServerProcess
from tests.zstack_client import Reply, ZStackClient, rpc_call, sha512, unique

DESCRIPTIONS: dict[str, str | None] = {
    "alpha": "first",
    "bravo": "second",
    "charlie": None,
    "delta": "x>=y",  # holds an earlier operator: the first-match quirk of §7.3
    "echo": None,
}
ALL = set(DESCRIPTIONS)
VID_PATH = "/iam2/virtual-ids"
QUERY_VID = "org.zstack.iam2.api.APIQueryIAM2VirtualIDMsg"


@dataclass
class Dataset:
    client: ZStackClient
    project: str
    prefix: str
    vids: dict[str, dict[str, Any]]

    def full(self, short: str) -> str:
        return f"{self.prefix}-{short}"

    def short(self, inventory: dict[str, Any]) -> str:
        return str(inventory["name"]).removeprefix(f"{self.prefix}-")

    def query(self, *conditions: str, **params: Any) -> Reply:
        """A query restricted to the project's members."""
        return self.client.query(VID_PATH, f"projects.uuid={self.project}", *conditions, **params)

    def names(self, *conditions: str, **params: Any) -> set[str]:
        return {self.short(inv) for inv in self.query(*conditions, **params).inventories}

    def ordered(self, *conditions: str, **params: Any) -> list[str]:
        return [self.short(inv) for inv in self.query(*conditions, **params).inventories]


@pytest.fixture(scope="module")
def data(server: ServerProcess) -> Iterator[Dataset]:
    client = ZStackClient(server.base_url)
    client.session = client.login_account("admin", server.admin_password).inventory["uuid"]
    prefix = unique("q")
    project = client.post("/iam2/projects", {"name": f"{prefix}-project"}).inventory["uuid"]
    vids = {}
    for short, description in DESCRIPTIONS.items():
        params: dict[str, Any] = {"name": f"{prefix}-{short}", "password": sha512("pw"), "projectUuid": project}
        if description is not None:
            params["description"] = description
        vids[short] = client.post(VID_PATH, params).inventory
    outsider = client.post(VID_PATH, {"name": f"{prefix}-foxtrot", "password": sha512("pw")})  # not a member
    assert outsider.status == 200, outsider.body
    yield Dataset(client, project, prefix, vids)
    client.close()


# --- the twelve REST operators -------------------------------------------------------------------


def test_the_project_condition_restricts_to_its_members(data: Dataset) -> None:
    assert data.names() == ALL
    everyone = data.client.query(VID_PATH, f"name~={data.prefix}-%").inventories
    assert {data.short(inv) for inv in everyone} == ALL | {"foxtrot"}


def test_not_equal(data: Dataset) -> None:
    assert data.names(f"name!={data.full('alpha')}") == ALL - {"alpha"}
    outsiders = data.client.query(VID_PATH, f"name~={data.prefix}-%", f"projects.uuid!={data.project}")
    assert [data.short(inv) for inv in outsiders.inventories] == ["foxtrot"]


def test_greater_or_equal_and_less_or_equal(data: Dataset) -> None:
    assert data.names(f"name>={data.full('charlie')}") == {"charlie", "delta", "echo"}
    assert data.names(f"name<={data.full('bravo')}") == {"alpha", "bravo"}


def test_greater_and_less(data: Dataset) -> None:
    assert data.names(f"name>{data.full('charlie')}") == {"delta", "echo"}
    assert data.names(f"name<{data.full('bravo')}") == {"alpha"}


def test_in_trims_values_and_not_in(data: Dataset) -> None:
    assert data.names(f"name?={data.full('alpha')}, {data.full('echo')}") == {"alpha", "echo"}
    assert data.names(f"name!?={data.full('alpha')},{data.full('bravo')}") == {"charlie", "delta", "echo"}
    assert data.names(f"name?={data.full('nobody')}") == set()


def test_like_and_not_like(data: Dataset) -> None:
    assert data.names("name~=%o") == {"bravo", "echo"}
    assert data.names(f"name~={data.prefix}-_ravo") == {"bravo"}  # '_' is one character
    assert data.names("name!~=%a") == {"bravo", "charlie", "echo"}


def test_equal(data: Dataset) -> None:
    assert data.names(f"name={data.full('delta')}") == {"delta"}
    assert data.names("description=first") == {"alpha"}


def test_is_null_and_not_null(data: Dataset) -> None:
    assert data.names("description is null") == {"charlie", "echo"}
    assert data.names("description not null") == {"alpha", "bravo", "delta"}


def test_conditions_are_combined_with_and(data: Dataset) -> None:
    assert data.names("description not null", f"name>{data.full('alpha')}", "name!~=%a") == {"bravo"}


def test_first_matching_operator_wins(data: Dataset) -> None:
    # 'description=x>=y' contains '>=' (checked before '='): field 'description=x', op '>=', value 'y'.
    error = data.query("description=x>=y").expect_error("SYS.1007")
    assert "description=x" in error["details"]
    # '~=' comes before '=' and '>', so LIKE sees the whole value; '_' stands for the '='.
    assert data.names("description~=x>_y") == {"delta"}
    # '=' is split once: the rest of the value may hold '=' signs.
    assert data.names(f"name={data.full('alpha')}=") == set()


def test_the_value_of_a_condition_keeps_its_spaces_but_the_field_is_trimmed(data: Dataset) -> None:
    assert data.names("description= first") == set()
    assert data.names(" description =first") == {"alpha"}


def test_raw_percent_signs_as_zssdk_sends_them(data: Dataset) -> None:
    # zssdk does not URL-encode: '%' reaches the server raw, and must still mean "any characters".
    response = data.client.http.get(
        f"{VID_PATH}?q=projects.uuid={data.project}&q=name~={data.prefix}-%o", headers=data.client._headers()
    )
    assert response.status_code == 200
    assert {data.short(inv) for inv in response.json()["inventories"]} == {"bravo", "echo"}


# --- dates ---------------------------------------------------------------------------------------


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _query_date(wire: str) -> datetime:
    """``Dec 4, 2026 1:02:03 PM`` (the service's local time) as a naive local datetime, locale-free."""
    found = re.fullmatch(r"([A-Z][a-z]{2}) (\d{1,2}), (\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)", wire)
    assert found is not None, wire
    month, day, year, hour, minute, second, half = found.groups()
    hour24 = int(hour) % 12 + (12 if half == "PM" else 0)
    return datetime(int(year), MONTHS.index(month) + 1, int(day), hour24, int(minute), int(second))


def test_date_conditions(data: Dataset) -> None:
    assert data.names("createDate>=2020-01-01 00:00:00") == ALL
    assert data.names("createDate<2020-01-01 00:00:00") == set()
    assert data.names("createDate>2999-12-31 23:59:59") == set()

    alpha = data.vids["alpha"]
    created = _query_date(alpha["createDate"])  # whole seconds; the stored value may have milliseconds
    same_second = created.strftime("%Y-%m-%d %H:%M:%S")
    next_second = (created + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    only_alpha = f"uuid={alpha['uuid']}"
    assert data.names(only_alpha, f"createDate>={same_second}") == {"alpha"}
    assert data.names(only_alpha, f"createDate<{same_second}") == set()
    assert data.names(only_alpha, f"createDate<{next_second}") == {"alpha"}
    assert data.names(only_alpha, f"createDate>={next_second}") == set()


def test_a_date_that_does_not_parse_is_sys_1007(data: Dataset) -> None:
    data.query("createDate>=yesterday").expect_error("SYS.1007")


# --- paging, counting, sorting, fields -----------------------------------------------------------


def test_sort_ascending_and_descending(data: Dataset) -> None:
    ascending = ["alpha", "bravo", "charlie", "delta", "echo"]
    assert data.ordered(sort="+name") == ascending
    assert data.ordered(sort="-name") == ascending[::-1]
    assert data.ordered(sort="name") == ascending  # a bare field is ascending


def test_sort_plus_sent_raw_decodes_to_a_space_and_is_ascending(data: Dataset) -> None:
    # zssdk sends 'sort=+name' unencoded; '+' is a space, which trims to ascending.
    response = data.client.http.get(
        f"{VID_PATH}?q=projects.uuid={data.project}&sort=+name", headers=data.client._headers()
    )
    assert response.status_code == 200
    assert [data.short(inv) for inv in response.json()["inventories"]] == ["alpha", "bravo", "charlie", "delta", "echo"]


def test_limit_and_start(data: Dataset) -> None:
    assert data.ordered(sort="+name", limit=2) == ["alpha", "bravo"]
    assert data.ordered(sort="+name", limit=2, start=1) == ["bravo", "charlie"]
    assert data.ordered(sort="+name", start=4) == ["echo"]
    assert data.ordered(sort="+name", start=5) == []
    assert data.ordered(limit=0) == []


def test_count_returns_only_the_total(data: Dataset) -> None:
    reply = data.query(count="true", limit=1)
    assert reply.status == 200
    assert reply.body == {"total": 5, "schema": {}}  # no inventories; the real server adds an empty schema
    assert data.query("description is null", count="True").body == {"total": 2, "schema": {}}


def test_reply_with_count_adds_the_total_of_all_matches(data: Dataset) -> None:
    reply = data.query(sort="-name", limit=2, start=1, replyWithCount="true")
    assert reply.body["total"] == 5
    assert [data.short(inv) for inv in reply.inventories] == ["delta", "charlie"]
    assert "total" not in data.query(limit=2).body


def test_fields_keep_only_the_named_keys(data: Dataset) -> None:
    reply = data.query(sort="+name", fields="name,description")
    expected = [
        {"name": data.full(short), **({"description": d} if d is not None else {})} for short, d in DESCRIPTIONS.items()
    ]
    assert reply.inventories == expected


def test_query_reply_has_schema_per_inventory(data: Dataset) -> None:
    reply = data.query(sort="+name", limit=2)
    assert reply.body["schema"] == {
        "inventories[0]": "org.zstack.iam2.entity.IAM2VirtualIDInventory",
        "inventories[1]": "org.zstack.iam2.entity.IAM2VirtualIDInventory",
    }


def test_default_limit_is_1000(admin: ZStackClient) -> None:
    vid = admin.post(
        VID_PATH,
        {
            "name": unique("many-attributes"),
            "password": sha512("pw"),
            "attributes": [{"name": f"attr-{i:04d}", "value": str(i)} for i in range(1000)],
        },
    ).inventory
    added = admin.post(f"{VID_PATH}/{vid['uuid']}/attributes", {"attributes": [{"name": "attr-1000"}]})
    assert len(added.inventory["attributes"]) == 1001
    mine = f"virtualIDUuid={vid['uuid']}"
    reply = admin.query(f"{VID_PATH}/attributes", mine, replyWithCount="true")
    assert reply.body["total"] == 1001
    assert len(reply.inventories) == 1000
    assert len(admin.query(f"{VID_PATH}/attributes", mine, limit=2000).inventories) == 1001
    last = admin.query(f"{VID_PATH}/attributes", mine, start=1000, sort="+name").inventories
    assert [attribute["name"] for attribute in last] == ["attr-1000"]


# --- GET /resource/{uuid} ------------------------------------------------------------------------


def _get(client: ZStackClient, path: str) -> Any:
    response = client.http.get(path, headers=client._headers())
    assert response.status_code == 200, response.text
    return response.json()


def test_get_by_uuid_answers_inventories(data: Dataset) -> None:
    alpha = data.vids["alpha"]
    body = _get(data.client, f"{VID_PATH}/{alpha['uuid']}")
    assert body["inventories"] == [alpha]
    assert body["schema"] == {"inventories[0]": "org.zstack.iam2.entity.IAM2VirtualIDInventory"}


def test_get_by_uuid_ignores_other_query_parameters(data: Dataset) -> None:
    alpha = data.vids["alpha"]
    body = _get(data.client, f"{VID_PATH}/{alpha['uuid']}?q=name=nobody&limit=0&count=true")
    assert [inv["uuid"] for inv in body["inventories"]] == [alpha["uuid"]]


def test_get_by_unknown_uuid_is_an_empty_list_with_200(data: Dataset) -> None:
    assert _get(data.client, f"{VID_PATH}/{'0' * 32}")["inventories"] == []
    assert _get(data.client, f"/iam2/projects/{data.vids['alpha']['uuid']}")["inventories"] == []
    assert [p["uuid"] for p in _get(data.client, f"/iam2/projects/{data.project}")["inventories"]] == [data.project]


# --- refusals ------------------------------------------------------------------------------------


def test_unknown_field_is_sys_1007(data: Dataset) -> None:
    error = data.query("cpuNum=4").expect_error("SYS.1007")
    assert error["description"] == "One or more API argument is invalid"
    assert "cpuNum" in error["details"]
    data.query(sort="+cpuNum").expect_error("SYS.1007")
    data.query(fields="name,cpuNum").expect_error("SYS.1007")


def test_condition_without_operator_is_plain_400(data: Dataset) -> None:
    reply = data.query("justaname")
    assert reply.status == 400
    assert isinstance(reply.body, str)
    assert reply.body.startswith("Invalid query parameter. The 'justaname' in the parameter[q] doesn't contain")


@pytest.mark.parametrize("name", ["limit", "start"])
def test_non_integer_paging_is_plain_400(data: Dataset, name: str) -> None:
    reply = data.query(**{name: "abc"})
    assert reply.status == 400
    assert reply.body == f"[{name}] field is excepted an int or long, but was [abc]."


def test_empty_fields_is_plain_400(data: Dataset) -> None:
    reply = data.query(fields=",")
    assert reply.status == 400 and isinstance(reply.body, str)


# --- the same engine through the RPC endpoint ----------------------------------------------------


def _rpc_query(data: Dataset, *conditions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    msg = {
        "conditions": [{"name": "projects.uuid", "op": "=", "value": data.project}, *conditions],
        "session": {"uuid": data.client.session},
        **extra,
    }
    envelope, result = rpc_call(data.client.base_url, QUERY_VID, msg)
    assert envelope["state"] == "Done"
    reply = result["org.zstack.iam2.api.APIQueryIAM2VirtualIDReply"]
    assert reply["success"] is True, reply
    return reply  # type: ignore[no-any-return]


def _rpc_names(data: Dataset, *conditions: dict[str, Any], **extra: Any) -> list[str]:
    return [data.short(inv) for inv in _rpc_query(data, *conditions, **extra)["inventories"]]


def test_rpc_conditions_use_the_same_operators(data: Dataset) -> None:
    alpha, echo = data.full("alpha"), data.full("echo")
    assert set(_rpc_names(data, {"name": "name", "op": "in", "value": [alpha, echo]})) == {"alpha", "echo"}
    assert set(_rpc_names(data, {"name": "name", "op": "not in", "value": f"{alpha},{echo}"})) == {
        "bravo",
        "charlie",
        "delta",
    }
    assert set(_rpc_names(data, {"name": "name", "op": "like", "value": "%o"})) == {"bravo", "echo"}
    assert set(_rpc_names(data, {"name": "name", "op": "not like", "value": "%a"})) == {"bravo", "charlie", "echo"}
    assert set(_rpc_names(data, {"name": "description", "op": "is null"})) == {"charlie", "echo"}
    assert set(_rpc_names(data, {"name": "description", "op": "is not null"})) == {"alpha", "bravo", "delta"}
    assert set(_rpc_names(data, {"name": "name", "op": "!=", "value": alpha})) == ALL - {"alpha"}
    assert set(_rpc_names(data, {"name": "name", "op": ">", "value": data.full("charlie")})) == {"delta", "echo"}


def test_rpc_sort_paging_and_counts(data: Dataset) -> None:
    assert _rpc_names(data, sortBy="name", sortDirection="desc", limit=2) == ["echo", "delta"]
    assert _rpc_names(data, sortBy="name", sortDirection="asc", limit=2, start=1) == ["bravo", "charlie"]
    counted = _rpc_query(data, limit=1, replyWithCount=True)
    assert counted["total"] == 5 and len(counted["inventories"]) == 1
    assert _rpc_query(data, count=True) == {"total": 5, "success": True}
    only = _rpc_query(data, {"name": "name", "op": "=", "value": data.full("charlie")}, fields=["name", "description"])
    assert only["inventories"] == [{"name": data.full("charlie")}]


def test_rpc_unknown_field_is_a_failed_reply(data: Dataset) -> None:
    msg = {"conditions": [{"name": "cpuNum", "op": "=", "value": "4"}], "session": {"uuid": data.client.session}}
    _, result = rpc_call(data.client.base_url, QUERY_VID, msg)
    reply = result["org.zstack.iam2.api.APIQueryIAM2VirtualIDReply"]
    assert reply["success"] is False
    assert reply["error"]["code"] == "SYS.1007"


def test_like_is_case_insensitive_on_every_database(admin: ZStackClient) -> None:
    name = unique("CaseMixed")
    created = admin.post("/iam2/projects", {"name": name}).inventory
    found = admin.query("/iam2/projects", f"name~={name.lower()}").inventories
    assert [p["uuid"] for p in found] == [created["uuid"]]
    assert admin.query("/iam2/projects", f"name={name.lower()}").inventories == []
