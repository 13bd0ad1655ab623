"""Reading tickets, histories and collections back over HTTP, for the ticket tests."""

from __future__ import annotations

from typing import Any, NamedTuple

from tests.servers import ServerProcess
from tests.world import Person, TwoStep, World
from tests.zstack_client import Reply, ZStackClient

ILLEGAL = "operation denied. the ticket is in status of {status}, cannot do the operation[{event}]"
NOT_APPROVER = "operation denied. the operator needs to be done by account/virtual ID[uuid:{uuid}]"
NOT_OWNER = "the virtual ID[uuid:{who}] is not the owner of the ticket[uuid:{uuid}, name:{name}]"
NOT_UPDATABLE = "ticket[uuid:{uuid}, name:{name}] can only be updated after being cancelled, current status is {status}"
NOT_FOUND = "invalid field[uuid], resource[uuid:{uuid}, type:TicketVO] not found"
APPROVER_LOST = "approver is removed from project or deleted, flow collection changed to invalid, reject this ticket"


class Step(NamedTuple):
    """One history row, reduced to what a transition is about."""

    from_status: str
    to_status: str
    operator_type: str
    operator_uuid: str
    flow_name: str | None
    comment: str | None = None
    context_type: str = "StatusChanged"


def client_of(who: Person | ZStackClient) -> ZStackClient:
    return who.client if isinstance(who, Person) else who


def ticket(client: ZStackClient, uuid: str) -> dict[str, Any] | None:
    """``GET /tickets/{uuid}``: the ticket, or None when the caller cannot see it."""
    found = client.query(f"/tickets/{uuid}").inventories
    assert len(found) <= 1
    return found[0] if found else None


def status_of(client: ZStackClient, uuid: str) -> str:
    row = ticket(client, uuid)
    assert row is not None, f"ticket {uuid} not found"
    return str(row["status"])


def history(client: ZStackClient, uuid: str) -> list[dict[str, Any]]:
    """The ticket's history as clients read it: ``q=ticketUuid=<uuid>&sort=+sequence``."""
    return client.query("/tickets/histories", f"ticketUuid={uuid}", sort="+sequence").inventories


def steps(rows: list[dict[str, Any]]) -> list[Step]:
    return [
        Step(
            r["fromStatus"],
            r["toStatus"],
            r["operatorType"],
            r["operatorUuid"],
            r.get("flowName"),
            r.get("comment"),
            r["operationContextType"],
        )
        for r in rows
    ]


def sequences(rows: list[dict[str, Any]]) -> list[int]:
    return [int(r["sequence"]) for r in rows]


def assert_increasing(rows: list[dict[str, Any]]) -> None:
    numbers = sequences(rows)
    assert all(a < b for a, b in zip(numbers, numbers[1:], strict=False)), numbers


def vid(person: Person, flow_name: str | None, from_status: str, to_status: str, comment: str | None = None) -> Step:
    """A history step done by a virtual ID."""
    return Step(from_status, to_status, "IAM2VirtualIDVO", person.uuid, flow_name, comment)


def opened(cast: TwoStep) -> Step:
    """The creation record ([DECISION] §5.2): Pending -> Pending, comment ``open``, by the submitter."""
    return vid(cast.submitter, "step-1", "Pending", "Pending", "open")


def flow_uuids(collection: dict[str, Any]) -> list[str]:
    """A collection's flows in chain order (rebuilt from ``parentFlowUuid``, as clients must)."""
    by_parent = {f.get("parentFlowUuid"): f for f in collection["flows"]}
    chain: list[str] = []
    current = by_parent.get(None)
    while current is not None:
        chain.append(current["uuid"])
        current = by_parent.get(current["uuid"])
    assert len(chain) == len(collection["flows"]), collection["flows"]
    return chain


def collection(client: ZStackClient, uuid: str) -> dict[str, Any]:
    found = client.query(f"/tickets/flow-collections/{uuid}").inventories
    assert len(found) == 1, found
    return found[0]


def admin_world(server: ServerProcess) -> World:
    """A world on a dedicated server started by ``make_server``."""
    client = ZStackClient(server.base_url)
    client.session = client.login_account("admin", server.admin_password).inventory["uuid"]
    return World(client)


def ok(reply: Reply) -> Any:
    """The body of a successful async call; fails the test with the error otherwise."""
    assert reply.status == 200, f"expected success, got {reply.status} {reply.body}"
    return reply.body


# How each status is reached from a new ticket of a two-step cast: (who, event) in order.
PATHS: dict[str, list[tuple[str, str]]] = {
    "Pending": [],
    "IntermediateApproved": [("first", "approve")],
    "FinalApproved": [("first", "approve"), ("last", "approve")],
    "Rejected": [("first", "reject")],
    "Cancelled": [("submitter", "cancel")],
}


def member(cast: TwoStep, name: str) -> Person:
    return {"submitter": cast.submitter, "first": cast.first, "last": cast.last}[name]


def reach(cast: TwoStep, status: str) -> str:
    """A new ticket of ``cast`` brought to ``status`` through the API."""
    uuid = str(cast.create_ticket()["uuid"])
    for who, event in PATHS[status]:
        ok(cast.change(member(cast, who), uuid, event))
    assert status_of(cast.world.admin, uuid) == status
    return uuid
