"""Who may call what: every API against every kind of caller, as one table (docs/authorization.md).

The cast, shared per database: a project with a two-step collection (step 1 approved by a
member, step 2 by a ``__SystemAdmin__`` who is not a member), its submitter, its project admin
(``__ProjectAdmin__`` = the project), another member, a member of another project, a member
whose virtual ID was disabled after it logged in, plus callers with no ``Authorization`` header
and with an unknown session. A ticket operation gets a fresh ticket of the submitter, waiting
at step 1 (or cancelled, for reopen and update); an operation that changes or deletes a
resource gets a fresh one where sharing would let one cell disturb another.

Each cell is ``allow`` (HTTP 200 and the change is visible afterwards), ``hidden`` (a query that
answers 200 without the resource), an ErrorCode (and nothing changed), or ``400`` (the
plain-text ``missing header 'Authorization'``). Run this module to print the table in Markdown:
``python -m tests.test_authorization_matrix``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import ServerProcess
from tests.world import Person, World
from tests.zstack_client import (
    ADMIN_UUID,
    VM_TICKET_TYPE,
    Reply,
    ZStackClient,
    sha512,
    unique,
    vm_request,
)
from zsticket.messages.catalogue import ALL_APIS

ALLOW, HIDDEN, NO_HEADER = "allow", "hidden", "400"
PERMISSION, NOT_FOUND, OPERATION, SESSION = "ID.1002", "SYS.1003", "SYS.1006", "ID.1001"

ACTORS = (
    "admin",
    "project admin",
    "current approver",
    "other approver",
    "submitter",
    "member",
    "outsider",
    "disabled",
    "no session",
    "unknown session",
)
ACTOR_NOTES = {
    "admin": "the platform admin account",
    "project admin": "a member holding `__ProjectAdmin__` = the project",
    "current approver": "approver of step 1, where the ticket waits (a member)",
    "other approver": "approver of step 2 (`__SystemAdmin__`, not a member)",
    "submitter": "the member who submitted the ticket",
    "member": "another member of the project",
    "outsider": "a member of another project",
    "disabled": "a member's session after `ChangeIAM2VirtualIDState disable`",
    "no session": "no `Authorization` header",
    "unknown session": "`OAuth <random uuid>`",
}

# The tail of every row whose API needs a session: disabled, no session, unknown session.
GONE = (SESSION, NO_HEADER, SESSION)
ADMIN_ONLY = (ALLOW, *(PERMISSION,) * 6, *GONE)
EVERYONE = (ALLOW,) * 7 + GONE
NO_CREDENTIALS = (ALLOW,) * 10  # APIs that read no session (@SuppressCredentialCheck)
OWNER = (OPERATION, OPERATION, OPERATION, OPERATION, ALLOW, NOT_FOUND, NOT_FOUND, *GONE)
APPROVER = (OPERATION, OPERATION, ALLOW, OPERATION, OPERATION, NOT_FOUND, NOT_FOUND, *GONE)
SEES_TICKET = (ALLOW, ALLOW, ALLOW, ALLOW, ALLOW, HIDDEN, HIDDEN, *GONE)
SEES_ARCHIVE = (ALLOW, ALLOW, HIDDEN, HIDDEN, ALLOW, HIDDEN, HIDDEN, *GONE)
SEES_COLLECTION = (ALLOW, ALLOW, ALLOW, ALLOW, ALLOW, ALLOW, HIDDEN, *GONE)
SEES_PROJECT = (ALLOW, ALLOW, ALLOW, HIDDEN, ALLOW, ALLOW, HIDDEN, *GONE)
MANAGES_MEMBERS = (ALLOW, ALLOW, *(PERMISSION,) * 5, *GONE)

# row -> (API class, the cell of each actor in ACTORS order)
MATRIX: dict[str, tuple[str, tuple[str, ...]]] = {
    "CreateTicket (for itself, in the project)": (
        "APICreateTicketMsg",
        (PERMISSION, ALLOW, ALLOW, PERMISSION, ALLOW, ALLOW, PERMISSION, *GONE),
    ),
    "ChangeTicketStatus approve": ("APIChangeTicketStatusMsg", APPROVER),
    "ChangeTicketStatus reject": ("APIChangeTicketStatusMsg", APPROVER),
    "ChangeTicketStatus cancel": ("APIChangeTicketStatusMsg", OWNER),
    "ChangeTicketStatus reopen (cancelled ticket)": ("APIChangeTicketStatusMsg", OWNER),
    "UpdateTicketRequest (cancelled ticket)": ("APIUpdateTicketRequestMsg", OWNER),
    "DeleteTicket": (
        "APIDeleteTicketMsg",
        (ALLOW, ALLOW, PERMISSION, PERMISSION, ALLOW, NOT_FOUND, NOT_FOUND, *GONE),
    ),
    "QueryTicket": ("APIQueryTicketMsg", SEES_TICKET),
    "QueryTicketHistory": ("APIQueryTicketHistoryMsg", SEES_TICKET),
    "QueryTicketExecution (approved ticket)": ("APIQueryTicketExecutionMsg", SEES_TICKET),
    "QueryArchiveTicket (deleted ticket)": ("APIQueryArchiveTicketMsg", SEES_ARCHIVE),
    "QueryArchiveTicketHistory (deleted ticket)": ("APIQueryArchiveTicketHistoryMsg", SEES_ARCHIVE),
    "QueryTicketFlowCollection": ("APIQueryTicketFlowCollectionMsg", SEES_COLLECTION),
    "QueryTicketFlow": ("APIQueryTicketFlowMsg", SEES_COLLECTION),
    "QueryTicketType": ("APIQueryTicketTypeMsg", EVERYONE),
    "CreateIAM2TickFlowCollection": ("APICreateIAM2TickFlowCollectionMsg", ADMIN_ONLY),
    "UpdateIAM2TicketFlowCollection": ("APIUpdateIAM2TicketFlowCollectionMsg", ADMIN_ONLY),
    "ChangeTicketFlowCollectionState": ("APIChangeTicketFlowCollectionStateMsg", ADMIN_ONLY),
    "DeleteTicketFlowCollection": ("APIDeleteTicketFlowCollectionMsg", ADMIN_ONLY),
    "AddTicketTypesToTicketFlowCollection": ("APIAddTicketTypesToTicketFlowCollectionMsg", ADMIN_ONLY),
    "RemoveTicketTypesFromTicketFlowCollection": ("APIRemoveTicketTypesFromTicketFlowCollectionMsg", ADMIN_ONLY),
    "AddIAM2TicketFlow": ("APIAddIAM2TicketFlowMsg", ADMIN_ONLY),
    "UpdateIAM2TicketFlow": ("APIUpdateIAM2TicketFlowMsg", ADMIN_ONLY),
    "DeleteIAM2TicketFlow": ("APIDeleteIAM2TicketFlowMsg", ADMIN_ONLY),
    "CreateIAM2Project": ("APICreateIAM2ProjectMsg", ADMIN_ONLY),
    "UpdateIAM2Project (the project)": ("APIUpdateIAM2ProjectMsg", ADMIN_ONLY),
    "ChangeIAM2ProjectState": ("APIChangeIAM2ProjectStateMsg", ADMIN_ONLY),
    "DeleteIAM2Project": ("APIDeleteIAM2ProjectMsg", ADMIN_ONLY),
    "ExpungeIAM2Project": ("APIExpungeIAM2ProjectMsg", ADMIN_ONLY),
    "AddIAM2VirtualIDsToProject (the project)": ("APIAddIAM2VirtualIDsToProjectMsg", MANAGES_MEMBERS),
    "RemoveIAM2VirtualIDsFromProject (the project)": ("APIRemoveIAM2VirtualIDsFromProjectMsg", MANAGES_MEMBERS),
    "QueryIAM2Project (the project)": ("APIQueryIAM2ProjectMsg", SEES_PROJECT),
    "GetIAM2ProjectsOfVirtualID": ("APIGetIAM2ProjectsOfVirtualIDMsg", EVERYONE),
    "LoginIAM2Project (the project)": (
        "APILoginIAM2ProjectMsg",
        (OPERATION, ALLOW, ALLOW, OPERATION, ALLOW, ALLOW, OPERATION, *GONE),
    ),
    "CreateIAM2VirtualID": ("APICreateIAM2VirtualIDMsg", ADMIN_ONLY),
    "UpdateIAM2VirtualID (the submitter)": (
        "APIUpdateIAM2VirtualIDMsg",
        (ALLOW, PERMISSION, PERMISSION, PERMISSION, ALLOW, PERMISSION, PERMISSION, *GONE),
    ),
    "ChangeIAM2VirtualIDState": ("APIChangeIAM2VirtualIDStateMsg", ADMIN_ONLY),
    "DeleteIAM2VirtualID": ("APIDeleteIAM2VirtualIDMsg", ADMIN_ONLY),
    "AddAttributesToIAM2VirtualID (to itself)": ("APIAddAttributesToIAM2VirtualIDMsg", ADMIN_ONLY),
    "RemoveAttributesFromIAM2VirtualID": ("APIRemoveAttributesFromIAM2VirtualIDMsg", ADMIN_ONLY),
    "QueryIAM2VirtualID (the submitter)": ("APIQueryIAM2VirtualIDMsg", SEES_PROJECT),
    "QueryIAM2VirtualIDAttribute (the project admin's)": ("APIQueryIAM2VirtualIDAttributeMsg", SEES_PROJECT),
    "RenewSession (the submitter's session)": (
        "APIRenewSessionMsg",
        (ALLOW, PERMISSION, PERMISSION, PERMISSION, ALLOW, PERMISSION, PERMISSION, *GONE),
    ),
    "LogInByAccount": ("APILogInByAccountMsg", NO_CREDENTIALS),
    "LoginIAM2VirtualID": ("APILoginIAM2VirtualIDMsg", NO_CREDENTIALS),
    "LogOut (a session of someone else)": ("APILogOutMsg", NO_CREDENTIALS),
    "ValidateSession (the submitter's session)": ("APIValidateSessionMsg", NO_CREDENTIALS),
}

CELL_TEXT = {ALLOW: "allow", HIDDEN: "hidden", NO_HEADER: "400 text"}


def render_markdown() -> str:
    """The table of docs/authorization.md, generated from MATRIX."""
    lines = [
        "| API | " + " | ".join(ACTORS) + " |",
        "|---|" + "---|" * len(ACTORS),
    ]
    for row, (_, cells) in MATRIX.items():
        lines.append(f"| {row} | " + " | ".join(CELL_TEXT.get(c, c) for c in cells) + " |")
    return "\n".join(lines)


# --- the cast -----------------------------------------------------------------------------------------------


@dataclass
class Cast:
    server: ServerProcess
    world: World
    project: dict[str, Any]
    other_project: dict[str, Any]
    project_admin: Person
    first: Person
    second: Person
    submitter: Person
    member: Person
    outsider: Person
    disabled: Person
    spare: Person  # logs in and out for the session APIs
    collection: dict[str, Any]  # the project's collection: [first, second], bound to the VM type
    spare_collection: dict[str, Any]  # [first, second], unbound: changed by the admin-only cells
    pending: str
    approved: str
    archived: str

    @property
    def admin(self) -> ZStackClient:
        return self.world.admin

    def client(self, actor: str) -> ZStackClient:
        people = {
            "project admin": self.project_admin,
            "current approver": self.first,
            "other approver": self.second,
            "submitter": self.submitter,
            "member": self.member,
            "outsider": self.outsider,
            "disabled": self.disabled,
        }
        if actor == "admin":
            return self.admin
        if actor in people:
            return people[actor].client
        return self.admin.as_session(None if actor == "no session" else secrets.token_hex(16))

    def person(self, actor: str) -> Person | None:
        return {
            "project admin": self.project_admin,
            "current approver": self.first,
            "other approver": self.second,
            "submitter": self.submitter,
            "member": self.member,
            "outsider": self.outsider,
            "disabled": self.disabled,
        }.get(actor)

    def ticket_params(self, submitter: str | None = None) -> dict[str, Any]:
        return {
            "name": unique("ticket"),
            "requests": [vm_request()],
            "accountSystemType": "iam2",
            "accountSystemContext": {
                "projectUuid": self.project["uuid"],
                "virtualIDUuid": submitter or self.submitter.uuid,
            },
        }

    def ticket(self, status: str = "Pending") -> str:
        uuid = str(self.submitter.client.post("/tickets", self.ticket_params()).inventory["uuid"])
        if status == "Cancelled":
            assert change(self.submitter.client, uuid, "cancel").inventory["status"] == "Cancelled"
        return uuid

    def ticket_row(self, uuid: str) -> dict[str, Any] | None:
        found = self.admin.query(f"/tickets/{uuid}").inventories
        return found[0] if found else None

    def collection_of(self, flows: list[str], **extra: Any) -> dict[str, Any]:
        params = {
            "name": unique("collection"),
            "projectUuid": extra.pop("projectUuid", self.project["uuid"]),
            "flows": [{"name": f"step-{i + 1}", "approverUuid": a} for i, a in enumerate(flows)],
            **extra,
        }
        return self.admin.post("/tickets/flow-collections", params).inventory


def change(client: ZStackClient, uuid: str, event: str) -> Reply:
    return invoke(client, "PUT", f"/tickets/{uuid}/actions", body={"changeTicketStatus": {"statusEvent": event}})


@pytest.fixture(scope="module")
def cast(server: ServerProcess) -> Iterator[Cast]:
    admin = ZStackClient(server.base_url)
    admin.session = admin.login_account("admin", server.admin_password).inventory["uuid"]
    world = World(admin)
    project, other_project = world.project(), world.project()
    home = project["uuid"]
    project_admin = world.person(project=home, attributes=[{"name": "__ProjectAdmin__", "value": home}])
    first = world.person(project=home)
    second = world.system_admin()
    submitter = world.person(project=home)
    member = world.person(project=home)
    outsider = world.person(project=other_project["uuid"])
    disabled = world.person(project=home)
    spare = world.person()
    collection = world.collection(home, [first.uuid, second.uuid])
    spare_collection = admin.post(
        "/tickets/flow-collections",
        {
            "name": unique("spare"),
            "projectUuid": home,
            "flows": [{"name": "a", "approverUuid": first.uuid}, {"name": "b", "approverUuid": second.uuid}],
        },
    ).inventory
    admin.action(f"/iam2/virtual-ids/{disabled.uuid}/actions", "changeIAM2VirtualIDState", {"stateEvent": "disable"})
    built = Cast(
        server=server,
        world=world,
        project=project,
        other_project=other_project,
        project_admin=project_admin,
        first=first,
        second=second,
        submitter=submitter,
        member=member,
        outsider=outsider,
        disabled=disabled,
        spare=spare,
        collection=collection,
        spare_collection=spare_collection,
        pending="",
        approved="",
        archived="",
    )
    built.pending = built.ticket()
    built.approved = built.ticket()
    assert change(first.client, built.approved, "approve").status == 200
    assert change(second.client, built.approved, "approve").inventory["status"] == "FinalApproved"
    built.archived = built.ticket()
    assert admin.delete(f"/tickets/{built.archived}").body == {}
    yield built
    for person in world.people.values():
        person.client.close()
    admin.close()


# --- calling and judging ---------------------------------------------------------------------------------


def invoke(
    client: ZStackClient, method: str, path: str, *, body: dict[str, Any] | None = None, params: Any = None
) -> Reply:
    """One API call as an SDK makes it, polling 202 jobs; plain-text refusals come back as text."""
    response = client.send(method, path, body=body, params=params)
    if response.status_code == 202:
        return client.poll(response.json()["location"])
    if response.headers.get("content-type", "").startswith("application/json"):
        return Reply(response.status_code, response.json())
    return Reply(response.status_code, response.text)


def verdict(reply: Reply, *, seen: bool | None = None) -> str:
    """The cell an answer stands for; ``seen`` is whether a successful query returned the resource."""
    if reply.status == 400 and isinstance(reply.body, str):
        return NO_HEADER if reply.body == "missing header 'Authorization'" else f"400 {reply.body}"
    if reply.status == 503:
        return str(reply.error["code"])
    if reply.status == 200 and isinstance(reply.body, dict):
        if seen is None:
            return ALLOW
        return ALLOW if seen else HIDDEN
    return f"HTTP {reply.status} {reply.body}"


@dataclass
class Attempt:
    reply: Reply
    changed: Callable[[], bool] | None = None  # whether the call's effect is visible afterwards
    seen: bool | None = None  # for queries: whether the resource came back


Operation = Callable[[Cast, str, ZStackClient], Attempt]


def _status_change(event: str, start: str = "Pending") -> Operation:
    def run(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
        uuid = cast.ticket(start)
        reply = change(client, uuid, event)
        return Attempt(reply, lambda: (cast.ticket_row(uuid) or {}).get("status") != start)

    return run


def _create_ticket(cast: Cast, actor: str, client: ZStackClient) -> Attempt:
    person = cast.person(actor)
    params = cast.ticket_params(person.uuid if person is not None else None)
    reply = invoke(client, "POST", "/tickets", body={"params": params})
    return Attempt(reply, lambda: bool(cast.admin.query("/tickets", f"name={params['name']}").inventories))


def _update_ticket(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid = cast.ticket("Cancelled")
    renamed = unique("vm")
    body = {"updateTicketRequest": {"requests": [vm_request(renamed)]}}
    reply = invoke(client, "PUT", f"/tickets/{uuid}/actions", body=body)
    return Attempt(reply, lambda: (cast.ticket_row(uuid) or {})["request"][0]["apiBody"]["name"] == renamed)


def _delete_ticket(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid = cast.ticket()
    return Attempt(invoke(client, "DELETE", f"/tickets/{uuid}"), lambda: cast.ticket_row(uuid) is None)


def _query(path: str, condition: Callable[[Cast], str]) -> Operation:
    def run(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
        reply = invoke(client, "GET", path, params=[("q", condition(cast))])
        seen = reply.status == 200 and isinstance(reply.body, dict) and bool(reply.body.get("inventories"))
        return Attempt(reply, seen=seen)

    return run


def _collection_lookup(cast: Cast, uuid: str) -> dict[str, Any] | None:
    found = cast.admin.query(f"/tickets/flow-collections/{uuid}").inventories
    return found[0] if found else None


def _create_collection(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    name = unique("collection")
    flows = [{"name": "a", "approverUuid": cast.first.uuid}, {"name": "b", "approverUuid": cast.second.uuid}]
    body = {"params": {"name": name, "projectUuid": cast.project["uuid"], "flows": flows}}
    reply = invoke(client, "POST", "/tickets/flow-collections", body=body)
    return Attempt(reply, lambda: bool(cast.admin.query("/tickets/flow-collections", f"name={name}").inventories))


def _update_collection(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid, token = cast.spare_collection["uuid"], unique("description")
    body = {"updateIAM2TicketFlowCollection": {"description": token}}
    reply = invoke(client, "PUT", f"/tickets/flow-collections/{uuid}/actions", body=body)
    return Attempt(reply, lambda: (_collection_lookup(cast, uuid) or {}).get("description") == token)


def _collection_state(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid = cast.collection_of([cast.second.uuid])["uuid"]
    body = {"changeTicketFlowCollectionState": {"stateEvent": "disable"}}
    reply = invoke(client, "PUT", f"/tickets/flow-collections/{uuid}/actions", body=body)
    return Attempt(reply, lambda: (_collection_lookup(cast, uuid) or {}).get("state") == "Disabled")


def _delete_collection(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid = cast.collection_of([cast.second.uuid])["uuid"]
    reply = invoke(client, "DELETE", f"/tickets/flow-collections/{uuid}")
    return Attempt(reply, lambda: _collection_lookup(cast, uuid) is None)


def _add_types(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    project = cast.world.project()["uuid"]  # the VM type is bound once per project
    uuid = cast.collection_of([cast.second.uuid], projectUuid=project)["uuid"]
    body = {"params": {"ticketTypeUuids": [VM_TICKET_TYPE]}}
    reply = invoke(client, "POST", f"/tickets/flow-collections/{uuid}/ticket-types", body=body)
    return Attempt(reply, lambda: (_collection_lookup(cast, uuid) or {}).get("ticketTypeUuids") == [VM_TICKET_TYPE])


def _remove_types(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    project = cast.world.project()["uuid"]
    uuid = cast.collection_of([cast.second.uuid], projectUuid=project, ticketTypeUuids=[VM_TICKET_TYPE])["uuid"]
    path = f"/tickets/flow-collections/{uuid}/ticket-types"
    reply = invoke(client, "DELETE", path, params={"ticketTypeUuids": VM_TICKET_TYPE})
    return Attempt(reply, lambda: (_collection_lookup(cast, uuid) or {}).get("ticketTypeUuids") == [])


def _flows_named(cast: Cast, name: str) -> list[dict[str, Any]]:
    return cast.admin.query("/tickets/flow", f"name={name}").inventories


def _add_flow(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    name = unique("flow")
    body = {"params": {"name": name, "approverUuid": cast.second.uuid, "collectionUuid": cast.spare_collection["uuid"]}}
    reply = invoke(client, "POST", "/tickets/flow", body=body)
    return Attempt(reply, lambda: bool(_flows_named(cast, name)))


def _update_flow(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid, token = cast.spare_collection["flows"][0]["uuid"], unique("description")
    body = {"updateIAM2TicketFlow": {"description": token}}
    reply = invoke(client, "PUT", f"/tickets/flow/{uuid}/actions", body=body)
    return Attempt(reply, lambda: cast.admin.query(f"/tickets/flow/{uuid}").inventories[0].get("description") == token)


def _delete_flow(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    flow = cast.collection_of([cast.first.uuid, cast.second.uuid])["flows"][0]["uuid"]
    reply = invoke(client, "DELETE", f"/tickets/flow/{flow}")
    return Attempt(reply, lambda: cast.admin.query(f"/tickets/flow/{flow}").inventories == [])


def _project_lookup(cast: Cast, uuid: str) -> dict[str, Any] | None:
    found = cast.admin.query(f"/iam2/projects/{uuid}").inventories
    return found[0] if found else None


def _create_project(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    name = unique("project")
    reply = invoke(client, "POST", "/iam2/projects", body={"params": {"name": name}})
    return Attempt(reply, lambda: bool(cast.admin.query("/iam2/projects", f"name={name}").inventories))


def _update_project(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid, token = cast.project["uuid"], unique("description")
    reply = invoke(client, "PUT", f"/iam2/projects/{uuid}/actions", body={"updateIAM2Project": {"description": token}})
    return Attempt(reply, lambda: (_project_lookup(cast, uuid) or {}).get("description") == token)


def _project_state(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid = cast.world.project()["uuid"]
    body = {"changeIAM2ProjectState": {"stateEvent": "disable"}}
    reply = invoke(client, "PUT", f"/iam2/projects/{uuid}/actions", body=body)
    return Attempt(reply, lambda: (_project_lookup(cast, uuid) or {}).get("state") == "Disabled")


def _delete_project(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid = cast.world.project()["uuid"]
    reply = invoke(client, "DELETE", f"/iam2/projects/{uuid}")
    return Attempt(reply, lambda: (_project_lookup(cast, uuid) or {}).get("state") == "Deleted")


def _expunge_project(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid = cast.world.project()["uuid"]
    reply = invoke(client, "PUT", f"/iam2/projects/{uuid}/actions", body={"expungeIAM2Project": {}})
    return Attempt(reply, lambda: _project_lookup(cast, uuid) is None)


def _members(cast: Cast) -> set[str]:
    rows = cast.admin.query("/iam2/virtual-ids", f"projects.uuid={cast.project['uuid']}").inventories
    return {row["uuid"] for row in rows}


def _fresh_vid(cast: Cast, **extra: Any) -> dict[str, Any]:
    params = {"name": unique("vid"), "password": sha512("pw"), **extra}
    return cast.admin.post("/iam2/virtual-ids", params).inventory


def _add_members(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    newcomer = _fresh_vid(cast)["uuid"]
    body = {"params": {"virtualIDUuids": [newcomer]}}
    reply = invoke(client, "POST", f"/iam2/projects/{cast.project['uuid']}/virtual-ids", body=body)
    return Attempt(reply, lambda: newcomer in _members(cast))


def _remove_members(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    leaver = _fresh_vid(cast, projectUuid=cast.project["uuid"])["uuid"]
    path = f"/iam2/projects/{cast.project['uuid']}/virtual-ids"
    reply = invoke(client, "DELETE", path, params={"virtualIDUuids": leaver})
    return Attempt(reply, lambda: leaver not in _members(cast))


def _vid_lookup(cast: Cast, uuid: str) -> dict[str, Any] | None:
    found = cast.admin.query(f"/iam2/virtual-ids/{uuid}").inventories
    return found[0] if found else None


def _create_vid(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    name = unique("vid")
    reply = invoke(client, "POST", "/iam2/virtual-ids", body={"params": {"name": name, "password": sha512("pw")}})
    return Attempt(reply, lambda: bool(cast.admin.query("/iam2/virtual-ids", f"name={name}").inventories))


def _update_vid(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid, token = cast.submitter.uuid, unique("description")
    body = {"updateIAM2VirtualID": {"description": token}}
    reply = invoke(client, "PUT", f"/iam2/virtual-ids/{uuid}/actions", body=body)
    return Attempt(reply, lambda: (_vid_lookup(cast, uuid) or {}).get("description") == token)


def _vid_state(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid = _fresh_vid(cast)["uuid"]
    body = {"changeIAM2VirtualIDState": {"stateEvent": "disable"}}
    reply = invoke(client, "PUT", f"/iam2/virtual-ids/{uuid}/actions", body=body)
    return Attempt(reply, lambda: (_vid_lookup(cast, uuid) or {}).get("state") == "Disabled")


def _delete_vid(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    uuid = _fresh_vid(cast)["uuid"]
    reply = invoke(client, "DELETE", f"/iam2/virtual-ids/{uuid}")
    return Attempt(reply, lambda: _vid_lookup(cast, uuid) is None)


def _add_attributes(cast: Cast, actor: str, client: ZStackClient) -> Attempt:
    """A virtual ID trying to make itself the project admin of the other project."""
    person = cast.person(actor)
    uuid = person.uuid if person is not None else _fresh_vid(cast)["uuid"]
    granted = {"name": "__ProjectAdmin__", "value": cast.other_project["uuid"]}
    reply = invoke(client, "POST", f"/iam2/virtual-ids/{uuid}/attributes", body={"params": {"attributes": [granted]}})

    def changed() -> bool:
        attributes = (_vid_lookup(cast, uuid) or {}).get("attributes", [])
        return any(a["name"] == granted["name"] and a.get("value") == granted["value"] for a in attributes)

    return Attempt(reply, changed)


def _remove_attributes(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    vid = _fresh_vid(cast, attributes=[{"name": "color", "value": "blue"}])
    attribute = vid["attributes"][0]["uuid"]
    path = f"/iam2/virtual-ids/{vid['uuid']}/attributes"
    reply = invoke(client, "DELETE", path, params={"attributeUuids": attribute})
    return Attempt(reply, lambda: (_vid_lookup(cast, vid["uuid"]) or {}).get("attributes") == [])


def _projects_of(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    return Attempt(invoke(client, "GET", "/iam2/virtual-ids/projects"))


def _login_project(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    body = {"loginIAM2Project": {"projectName": cast.project["name"]}}
    return Attempt(invoke(client, "PUT", "/iam2/projects/login", body=body))


def _valid(cast: Cast, session: str) -> bool:
    return bool(invoke(cast.admin, "GET", f"/accounts/sessions/{session}/valid").body["valid"])


def _renew(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    session = str(cast.submitter.client.session)
    return Attempt(invoke(client, "PUT", f"/accounts/sessions/{session}/renew", body={"renewSession": {}}))


def _login_account(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    body = {"logInByAccount": {"accountName": "admin", "password": sha512(cast.server.admin_password)}}
    reply = invoke(client, "PUT", "/accounts/login", body=body)
    session = reply.body.get("inventory", {}).get("uuid") if isinstance(reply.body, dict) else None
    if session:
        invoke(cast.admin, "DELETE", f"/accounts/sessions/{session}")
    return Attempt(reply)


def _login_vid(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    body = {"loginIAM2VirtualID": {"name": cast.spare.name, "password": sha512(cast.spare.password)}}
    reply = invoke(client, "PUT", "/iam2/virtual-ids/login", body=body)
    session = reply.body.get("inventory", {}).get("uuid") if isinstance(reply.body, dict) else None
    if session:
        invoke(cast.admin, "DELETE", f"/accounts/sessions/{session}")
    return Attempt(reply)


def _log_out(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    session = cast.admin.login_vid(cast.spare.name, cast.spare.password).inventory["uuid"]
    reply = invoke(client, "DELETE", f"/accounts/sessions/{session}")
    return Attempt(reply, lambda: not _valid(cast, session))


def _validate(cast: Cast, _actor: str, client: ZStackClient) -> Attempt:
    reply = invoke(client, "GET", f"/accounts/sessions/{cast.submitter.client.session}/valid")
    assert reply.status != 200 or reply.body == {"valid": True}, reply.body
    return Attempt(reply)


OPERATIONS: dict[str, Operation] = {
    "CreateTicket (for itself, in the project)": _create_ticket,
    "ChangeTicketStatus approve": _status_change("approve"),
    "ChangeTicketStatus reject": _status_change("reject"),
    "ChangeTicketStatus cancel": _status_change("cancel"),
    "ChangeTicketStatus reopen (cancelled ticket)": _status_change("reopen", "Cancelled"),
    "UpdateTicketRequest (cancelled ticket)": _update_ticket,
    "DeleteTicket": _delete_ticket,
    "QueryTicket": _query("/tickets", lambda c: f"uuid={c.pending}"),
    "QueryTicketHistory": _query("/tickets/histories", lambda c: f"ticketUuid={c.pending}"),
    "QueryTicketExecution (approved ticket)": _query("/tickets/executions", lambda c: f"ticketUuid={c.approved}"),
    "QueryArchiveTicket (deleted ticket)": _query("/tickets/archives", lambda c: f"ticketUuid={c.archived}"),
    "QueryArchiveTicketHistory (deleted ticket)": _query(
        "/tickets/histories/archives", lambda c: f"ticketUuid={c.archived}"
    ),
    "QueryTicketFlowCollection": _query("/tickets/flow-collections", lambda c: f"uuid={c.collection['uuid']}"),
    "QueryTicketFlow": _query("/tickets/flow", lambda c: f"collectionUuid={c.collection['uuid']}"),
    "QueryTicketType": _query("/ticket-types", lambda c: f"uuid={VM_TICKET_TYPE}"),
    "CreateIAM2TickFlowCollection": _create_collection,
    "UpdateIAM2TicketFlowCollection": _update_collection,
    "ChangeTicketFlowCollectionState": _collection_state,
    "DeleteTicketFlowCollection": _delete_collection,
    "AddTicketTypesToTicketFlowCollection": _add_types,
    "RemoveTicketTypesFromTicketFlowCollection": _remove_types,
    "AddIAM2TicketFlow": _add_flow,
    "UpdateIAM2TicketFlow": _update_flow,
    "DeleteIAM2TicketFlow": _delete_flow,
    "CreateIAM2Project": _create_project,
    "UpdateIAM2Project (the project)": _update_project,
    "ChangeIAM2ProjectState": _project_state,
    "DeleteIAM2Project": _delete_project,
    "ExpungeIAM2Project": _expunge_project,
    "AddIAM2VirtualIDsToProject (the project)": _add_members,
    "RemoveIAM2VirtualIDsFromProject (the project)": _remove_members,
    "QueryIAM2Project (the project)": _query("/iam2/projects", lambda c: f"uuid={c.project['uuid']}"),
    "GetIAM2ProjectsOfVirtualID": _projects_of,
    "LoginIAM2Project (the project)": _login_project,
    "CreateIAM2VirtualID": _create_vid,
    "UpdateIAM2VirtualID (the submitter)": _update_vid,
    "ChangeIAM2VirtualIDState": _vid_state,
    "DeleteIAM2VirtualID": _delete_vid,
    "AddAttributesToIAM2VirtualID (to itself)": _add_attributes,
    "RemoveAttributesFromIAM2VirtualID": _remove_attributes,
    "QueryIAM2VirtualID (the submitter)": _query("/iam2/virtual-ids", lambda c: f"uuid={c.submitter.uuid}"),
    "QueryIAM2VirtualIDAttribute (the project admin's)": _query(
        "/iam2/virtual-ids/attributes", lambda c: f"virtualIDUuid={c.project_admin.uuid}"
    ),
    "RenewSession (the submitter's session)": _renew,
    "LogInByAccount": _login_account,
    "LoginIAM2VirtualID": _login_vid,
    "LogOut (a session of someone else)": _log_out,
    "ValidateSession (the submitter's session)": _validate,
}

CELLS = [(row, actor) for row in MATRIX for actor in ACTORS]


def cell_id(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(value)).strip("-")


# --- the tests --------------------------------------------------------------------------------------------


def test_the_table_covers_every_api_and_every_actor() -> None:
    assert set(OPERATIONS) == set(MATRIX)
    assert {api for api, _ in MATRIX.values()} == {api.simple_name for api in ALL_APIS}
    assert all(len(cells) == len(ACTORS) for _, cells in MATRIX.values())


@pytest.mark.parametrize(("row", "actor"), CELLS, ids=[f"{cell_id(r)}--{cell_id(a)}" for r, a in CELLS])
def test_cell(cast: Cast, row: str, actor: str) -> None:
    expected = MATRIX[row][1][ACTORS.index(actor)]
    attempt = OPERATIONS[row](cast, actor, cast.client(actor))
    assert verdict(attempt.reply, seen=attempt.seen) == expected, (row, actor, attempt.reply)
    if attempt.changed is not None:
        assert attempt.changed() == (expected == ALLOW), f"{row} by {actor}: the effect does not match {expected}"


def test_the_cast_is_what_the_table_assumes(cast: Cast) -> None:
    """The approver of step 2 is no member, the ticket waits at step 1, the disabled session is dead."""
    ticket = cast.ticket_row(cast.pending)
    assert ticket is not None and ticket["status"] == "Pending"
    assert ticket["currentFlowUuid"] == cast.collection["flows"][0]["uuid"]
    assert [f["approverUuid"] for f in cast.collection["flows"]] == [cast.first.uuid, cast.second.uuid]
    assert cast.second.uuid not in _members(cast) and cast.first.uuid in _members(cast)
    assert cast.outsider.uuid not in _members(cast) and cast.disabled.uuid in _members(cast)
    assert cast.disabled.client.query("/tickets").error["code"] == SESSION
    assert cast.admin.query(f"/tickets/{cast.archived}").inventories == []
    assert ADMIN_UUID not in _members(cast)


def test_docs_render_the_same_table() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "authorization.md").read_text()
    start, end = "<!-- matrix:start -->", "<!-- matrix:end -->"
    assert start in doc and end in doc
    assert doc.split(start, 1)[1].split(end, 1)[0].strip() == render_markdown()


if __name__ == "__main__":
    print(render_markdown())
