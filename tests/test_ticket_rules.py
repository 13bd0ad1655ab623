"""The rules of tickets and flow collections over HTTP: transitions, actors, validation (spec §5, §6, §8)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.ticket_steps import (
    ILLEGAL,
    NOT_APPROVER,
    NOT_OWNER,
    Step,
    admin_world,
    collection,
    flow_uuids,
    history,
    member,
    ok,
    reach,
    status_of,
    steps,
    ticket,
    vid,
)
from tests.world import Person, TwoStep, World
from tests.zstack_client import (
    ADMIN_UUID,
    CREATE_VM,
    SYSTEM_COLLECTION,
    VM_TICKET_TYPE,
    ZStackClient,
    unique,
    vm_request,
)

STATUSES = ["Pending", "IntermediateApproved", "FinalApproved", "Rejected", "Cancelled"]
EVENTS = ["approve", "reject", "cancel", "reopen", "open"]

# §5.3: (status, event) -> (next status, index of currentFlowUuid afterwards, or None when absent).
LEGAL: dict[tuple[str, str], tuple[str, int | None]] = {
    ("Pending", "approve"): ("IntermediateApproved", 1),
    ("Pending", "reject"): ("Rejected", 0),
    ("Pending", "cancel"): ("Cancelled", 0),
    ("IntermediateApproved", "approve"): ("FinalApproved", None),
    ("IntermediateApproved", "reject"): ("Rejected", 1),
    ("IntermediateApproved", "cancel"): ("Cancelled", 1),
    ("Rejected", "reopen"): ("Pending", 0),
    ("Cancelled", "reopen"): ("Pending", 0),
}

# Where the ticket stands in each status: the step whose approver would act (§5.5).
CURRENT_STEP = {"Pending": 0, "IntermediateApproved": 1, "FinalApproved": 1, "Rejected": 0, "Cancelled": 0}

TITLES = "[SystemAdmin, ProjectAdmin, ProjectOperator, OrganizationSupervisor, PlatformAdmin]"


def _actor_for(cast: TwoStep, status: str, event: str) -> Person:
    """The person who would plausibly send ``event``: the step's approver, else the submitter."""
    if event in ("approve", "reject"):
        return cast.first if CURRENT_STEP[status] == 0 else cast.last
    return cast.submitter


def _project_admin(world: World, project: dict[str, Any]) -> Person:
    return world.person(project=project["uuid"], attributes=[{"name": "__ProjectAdmin__", "value": project["uuid"]}])


# --- §5.3 transition table ---------------------------------------------------------------------------


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("status", STATUSES)
def test_transition_table(world: World, status: str, event: str) -> None:
    cast = world.two_step()
    chain = flow_uuids(cast.collection)
    uuid = reach(cast, status)
    before = history(world.admin, uuid)
    actor = _actor_for(cast, status, event)

    reply = cast.change(actor, uuid, event, f"{event} from {status}")

    if (status, event) not in LEGAL:
        reply.expect_error("SYS.1006", ILLEGAL.format(status=status, event=event))
        assert status_of(world.admin, uuid) == status
        assert history(world.admin, uuid) == before
        return
    target, flow_index = LEGAL[(status, event)]
    inventory = reply.inventory
    assert inventory["status"] == target
    assert inventory.get("currentFlowUuid") == (None if flow_index is None else chain[flow_index])
    after = history(world.admin, uuid)
    assert after[: len(before)] == before
    flow_name = "step-1" if event == "reopen" else f"step-{CURRENT_STEP[status] + 1}"
    assert steps(after[len(before) :])[:1] == [vid(actor, flow_name, status, target, f"{event} from {status}")]
    assert len(after) == len(before) + 1 or target == "FinalApproved"


def test_unknown_status_event_is_a_validation_error(world: World) -> None:
    cast = world.two_step()
    uuid = cast.create_ticket()["uuid"]
    error = cast.change(cast.first, uuid, "delete").expect_error("SYS.1007")
    assert error["details"] == (
        "valid value for field[statusEvent] of message[org.zstack.ticket.api.APIChangeTicketStatusMsg] "
        "are [open, approve, cancel, reject, reopen], but delete found"
    )


# --- §5.4 actors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["approve", "reject"])
@pytest.mark.parametrize(
    ("status", "actor"),
    [
        ("Pending", "submitter"),
        ("Pending", "last"),
        ("Pending", "admin"),
        ("Pending", "project-admin"),
        ("IntermediateApproved", "first"),
        ("IntermediateApproved", "submitter"),
    ],
)
def test_only_the_current_approver_may_approve_or_reject(world: World, status: str, actor: str, event: str) -> None:
    cast = world.two_step()
    uuid = reach(cast, status)
    who: Person | ZStackClient
    if actor == "admin":
        who = world.admin
    elif actor == "project-admin":
        who = _project_admin(world, cast.project)
    else:
        who = member(cast, actor)
    approver = cast.first if status == "Pending" else cast.last
    before = history(world.admin, uuid)
    cast.change(who, uuid, event).expect_error("SYS.1006", NOT_APPROVER.format(uuid=approver.uuid))
    assert status_of(world.admin, uuid) == status
    assert history(world.admin, uuid) == before


def _owner_operation(cast: TwoStep, who: Person | ZStackClient, uuid: str, operation: str) -> Any:
    if operation == "update":
        client = who.client if isinstance(who, Person) else who
        return client.action(f"/tickets/{uuid}/actions", "updateTicketRequest", {"requests": [vm_request("other")]})
    return cast.change(who, uuid, operation)


@pytest.mark.parametrize(
    ("operation", "status"),
    [
        ("cancel", "Pending"),
        ("cancel", "IntermediateApproved"),
        ("reopen", "Rejected"),
        ("reopen", "Cancelled"),
        ("update", "Rejected"),
        ("update", "Cancelled"),
    ],
)
@pytest.mark.parametrize("actor", ["first", "last", "admin", "project-admin"])
def test_only_the_owner_may_cancel_reopen_or_update(world: World, actor: str, operation: str, status: str) -> None:
    cast = world.two_step()
    created_uuid = reach(cast, status)
    name = ticket(world.admin, created_uuid)["name"]  # type: ignore[index]
    who: Person | ZStackClient
    if actor == "admin":
        who, who_uuid = world.admin, ADMIN_UUID
    else:
        person = _project_admin(world, cast.project) if actor == "project-admin" else member(cast, actor)
        who, who_uuid = person, person.uuid
    before = ticket(world.admin, created_uuid)
    _owner_operation(cast, who, created_uuid, operation).expect_error(
        "SYS.1006", NOT_OWNER.format(who=who_uuid, uuid=created_uuid, name=name)
    )
    assert ticket(world.admin, created_uuid) == before


@pytest.mark.parametrize("actor", ["first", "last"])
def test_approvers_may_not_delete_tickets(world: World, actor: str) -> None:
    cast = world.two_step()
    uuid = cast.create_ticket()["uuid"]
    member(cast, actor).client.delete(f"/tickets/{uuid}").expect_error(
        "ID.1002", f"operation denied. only admin, the submitter or the project admin can delete ticket[uuid:{uuid}]"
    )
    assert status_of(world.admin, uuid) == "Pending"


def test_admin_override_needs_the_flag(make_server) -> None:  # type: ignore[no-untyped-def]
    world = admin_world(make_server(admin_can_act_on_any_step="true"))
    cast = world.two_step()
    chain = flow_uuids(cast.collection)
    uuid = cast.create_ticket()["uuid"]

    assert cast.change(world.admin, uuid, "approve", "on behalf").inventory["currentFlowUuid"] == chain[1]
    assert cast.change(world.admin, uuid, "reject").inventory["status"] == "Rejected"
    updated = world.admin.action(
        f"/tickets/{uuid}/actions", "updateTicketRequest", {"requests": [vm_request("by-admin")]}
    ).inventory
    assert updated["request"] == [vm_request("by-admin")]
    assert cast.change(world.admin, uuid, "reopen").inventory["status"] == "Pending"
    assert cast.change(world.admin, uuid, "cancel").inventory["status"] == "Cancelled"

    admin_steps = [s for s in steps(history(world.admin, uuid)) if s.operator_type == "AccountVO"]
    assert [(s.from_status, s.to_status, s.operator_uuid) for s in admin_steps] == [
        ("Pending", "IntermediateApproved", ADMIN_UUID),
        ("IntermediateApproved", "Rejected", ADMIN_UUID),
        ("Rejected", "Rejected", ADMIN_UUID),
        ("Rejected", "Pending", ADMIN_UUID),
        ("Pending", "Cancelled", ADMIN_UUID),
    ]
    # The flag does not make illegal transitions legal.
    illegal = ILLEGAL.format(status="Cancelled", event="approve")
    cast.change(world.admin, uuid, "approve").expect_error("SYS.1006", illegal)


def _self_approving(world: World) -> TwoStep:
    """A collection whose first step is approved by the submitter itself."""
    project = world.project()
    submitter = world.person(project=project["uuid"])
    last = world.system_admin()
    chosen = world.collection(project["uuid"], [submitter.uuid, last.uuid])
    return TwoStep(world, project, submitter, submitter, last, chosen)


def test_self_approval_is_refused_by_default_but_self_reject_is_allowed(world: World) -> None:
    cast = _self_approving(world)
    uuid = cast.create_ticket()["uuid"]
    cast.change(cast.submitter, uuid, "approve").expect_error(
        "SYS.1006", f"operation denied. the virtual ID[uuid:{cast.submitter.uuid}] cannot approve its own ticket"
    )
    assert status_of(world.admin, uuid) == "Pending"
    assert cast.change(cast.submitter, uuid, "reject").inventory["status"] == "Rejected"


def test_self_approval_allowed_with_the_flag(make_server) -> None:  # type: ignore[no-untyped-def]
    world = admin_world(make_server(allow_self_approval="true"))
    cast = _self_approving(world)
    uuid = cast.create_ticket()["uuid"]
    assert cast.change(cast.submitter, uuid, "approve").inventory["status"] == "IntermediateApproved"


def test_admin_approves_steps_that_name_admin_without_the_flag(world: World) -> None:
    project = world.project()
    submitter = world.person(project=project["uuid"])
    first = world.person(project=project["uuid"])
    chosen = world.collection(project["uuid"], [first.uuid, ADMIN_UUID])
    cast = TwoStep(world, project, submitter, first, first, chosen)
    uuid = cast.create_ticket()["uuid"]
    cast.change(world.admin, uuid, "approve").expect_error("SYS.1006", NOT_APPROVER.format(uuid=first.uuid))
    ok(cast.change(first, uuid, "approve"))
    assert cast.change(world.admin, uuid, "approve").inventory["status"] == "FinalApproved"


# --- §5.2 / §8 CreateTicket validation -------------------------------------------------------------------


@dataclass
class Invalid:
    """A CreateTicket call that must fail, and how."""

    params: dict[str, Any]
    code: str
    details: str


def _bad_type(cast: TwoStep) -> Invalid:
    details = "no accountSystemType[ldap] defined in system"
    return Invalid(cast.ticket_params(accountSystemType="ldap"), "SYS.1007", details)


def _no_ticket_type(cast: TwoStep) -> Invalid:
    other = {**vm_request(), "apiName": "org.zstack.header.vm.APIStartVmInstanceMsg"}
    return Invalid(cast.ticket_params(requests=[other]), "SYS.1007", "not matched ticket type found")


def _mixed_ticket_type(cast: TwoStep) -> Invalid:
    other = {**vm_request(), "apiName": "org.zstack.header.vm.APIDestroyVmInstanceMsg"}
    return Invalid(cast.ticket_params(requests=[vm_request(), other]), "SYS.1007", "not matched ticket type found")


def _type_mismatch(cast: TwoStep) -> Invalid:
    untyped = cast.world.collection(cast.project["uuid"], [cast.last.uuid], ticketTypeUuids=[])
    return Invalid(
        cast.ticket_params(flowCollectionUuid=untyped["uuid"]),
        "SYS.1007",
        f"Ticket flow collection[uuid:{untyped['uuid']}] not matches ticket type[uuid:{VM_TICKET_TYPE}]",
    )


def _invalid_collection(cast: TwoStep) -> Invalid:
    ok(cast.world.admin.delete(f"/iam2/projects/{cast.project['uuid']}/virtual-ids", virtualIDUuids=[cast.first.uuid]))
    uuid = cast.collection["uuid"]
    assert collection(cast.world.admin, uuid)["status"] == "Invalid"
    return Invalid(
        cast.ticket_params(flowCollectionUuid=uuid),
        "SYS.1006",
        f"Ticket flow collection[uuid:{uuid}] is invalid, contact admin to correct it",
    )


def _disabled_collection(cast: TwoStep) -> Invalid:
    uuid = cast.collection["uuid"]
    path = f"/tickets/flow-collections/{uuid}/actions"
    ok(cast.world.admin.action(path, "changeTicketFlowCollectionState", {"stateEvent": "disable"}))
    details = f"Ticket flow collection[uuid:{uuid}] is disable, can not be used"
    return Invalid(cast.ticket_params(flowCollectionUuid=uuid), "SYS.1006", details)


def _other_project_collection(cast: TwoStep) -> Invalid:
    foreign = cast.world.two_step().collection["uuid"]
    return Invalid(
        cast.ticket_params(flowCollectionUuid=foreign),
        "SYS.1006",
        f"operation denied because flow collection[uuid:{foreign}] "
        f"it not belong the project[uuid:{cast.project['uuid']}]",
    )


def _api_body(body: Any, reason: str) -> Callable[[TwoStep], Invalid]:
    def build(cast: TwoStep) -> Invalid:
        request = {**vm_request(), "apiBody": body}
        return Invalid(
            cast.ticket_params(requests=[request]),
            "SYS.1007",
            f"invalid request, cannot create API[{CREATE_VM}] from apiBody, {reason}",
        )

    return build


def _unknown_collection(cast: TwoStep) -> Invalid:
    missing = "0123456789abcdef0123456789abcdef"
    return Invalid(
        cast.ticket_params(flowCollectionUuid=missing),
        "SYS.1003",
        f"invalid field[flowCollectionUuid], resource[uuid:{missing}, type:TicketFlowCollectionVO] not found",
    )


def _empty_requests(cast: TwoStep) -> Invalid:
    return Invalid(cast.ticket_params(requests=[]), "SYS.1007", "field[requests] must be a nonempty list")


def _executes_zero_times(cast: TwoStep) -> Invalid:
    return Invalid(
        cast.ticket_params(requests=[vm_request(times=0)]),
        "SYS.1007",
        "requests[0].executeTimes must be an integer in range of [1, 1000]",
    )


def _someone_else(cast: TwoStep) -> Invalid:
    params = cast.ticket_params()
    params["accountSystemContext"] = {**params["accountSystemContext"], "virtualIDUuid": cast.first.uuid}
    return Invalid(
        params,
        "ID.1002",
        f"operation denied. account/virtual ID[uuid:{cast.submitter.uuid}] cannot submit a ticket "
        f"on behalf of virtual ID[uuid:{cast.first.uuid}]",
    )


INVALID_TICKETS: dict[str, Callable[[TwoStep], Invalid]] = {
    "5-account-system-type": _bad_type,
    "6-no-ticket-type": _no_ticket_type,
    "6-mixed-ticket-types": _mixed_ticket_type,
    "7-collection-not-bound-to-type": _type_mismatch,
    "3-invalid-collection": _invalid_collection,
    "4-disabled-collection": _disabled_collection,
    "16-collection-of-another-project": _other_project_collection,
    "10-api-body-not-an-object": _api_body("a string", "apiBody must be a JSON object"),
    "10-api-body-without-l3": _api_body({"name": "vm"}, "field[l3NetworkUuids] is mandatory"),
    "10-api-body-empty-l3": _api_body(
        {"name": "vm", "l3NetworkUuids": []}, "field[l3NetworkUuids] must be a nonempty list"
    ),
    "10-api-body-bad-strategy": _api_body(
        {"name": "vm", "l3NetworkUuids": ["a"], "strategy": "Later"},
        "field[strategy] must be one of ['InstantStart', 'JustCreate', 'CreateStopped']",
    ),
    "unknown-collection": _unknown_collection,
    "empty-requests": _empty_requests,
    "execute-zero-times": _executes_zero_times,
    "submit-for-someone-else": _someone_else,
}


@pytest.mark.parametrize("case", INVALID_TICKETS)
def test_create_ticket_validation(world: World, case: str) -> None:
    cast = world.two_step()
    invalid = INVALID_TICKETS[case](cast)
    cast.submitter.client.post("/tickets", invalid.params).expect_error(invalid.code, invalid.details)
    assert world.admin.query("/tickets", f"name={invalid.params['name']}").inventories == []


def test_no_collection_at_all_is_error_8(make_server) -> None:  # type: ignore[no-untyped-def]
    world = admin_world(make_server(seed_system_default_collection="false"))
    project = world.project()
    submitter = world.person(project=project["uuid"])
    cast = TwoStep(world, project, submitter, submitter, submitter, {})
    cast.submitter.client.post("/tickets", cast.ticket_params()).expect_error(
        "SYS.1007",
        "no matched ticket flow collection or no default ticket flow collection found, you must specify "
        "the flowCollectionUuid or create a default ticket flow collection in system",
    )


# --- §6.4 collection selection -------------------------------------------------------------------------


@pytest.mark.parametrize("setup", ["typed", "default", "system", "typed-disabled", "typed-and-other-project"])
def test_collection_selection(world: World, setup: str) -> None:
    project = world.project()
    submitter = world.person(project=project["uuid"])
    last = world.system_admin()
    typed = default = None
    if setup.startswith("typed"):
        typed = world.collection(project["uuid"], [last.uuid])
    if setup in ("typed", "default", "typed-disabled"):
        default = world.collection(project["uuid"], [last.uuid], ticketTypeUuids=[], isDefault=True)
    if setup == "typed-disabled":
        assert typed is not None
        path = f"/tickets/flow-collections/{typed['uuid']}/actions"
        ok(world.admin.action(path, "changeTicketFlowCollectionState", {"stateEvent": "disable"}))
    if setup == "typed-and-other-project":
        world.two_step()  # another project's typed collection must not be picked
    expected = {
        "typed": typed,
        "default": default,
        "system": {"uuid": SYSTEM_COLLECTION},
        "typed-disabled": default,
        "typed-and-other-project": typed,
    }[setup]
    assert expected is not None
    cast = TwoStep(world, project, submitter, last, last, expected)
    created = cast.create_ticket()
    assert created["flowCollectionUuid"] == expected["uuid"]
    assert created["ticketTypeUuid"] == VM_TICKET_TYPE


# --- §6.6 collection and flow validation ---------------------------------------------------------------


@dataclass
class People:
    project: str
    member: Person
    boss: Person
    outsider: Person


def _flows(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return list(items)


BAD_COLLECTIONS: dict[str, Callable[[People], tuple[dict[str, Any], str]]] = {
    "19-no-flows": lambda p: ({"flows": []}, "at least one flow is needed for create flow collection"),
    "19-flows-missing": lambda p: ({}, "at least one flow is needed for create flow collection"),
    "20-wrong-title": lambda p: (
        {"flows": _flows({"name": "a", "approverUuid": p.boss.uuid, "approverTitle": "Boss"})},
        f"wrong approver title Boss, valid value is {TITLES}",
    ),
    "21-unknown-approver": lambda p: (
        {
            "flows": _flows(
                {"name": "a", "approverUuid": "abcdef0123456789abcdef0123456789"},
                {"name": "b", "approverUuid": p.boss.uuid},
            )
        },
        "can not find IAM2VirtualIDVO[uuid:abcdef0123456789abcdef0123456789]",
    ),
    "24-last-not-privileged": lambda p: (
        {"flows": _flows({"name": "a", "approverUuid": p.boss.uuid}, {"name": "b", "approverUuid": p.member.uuid})},
        "admin or iam2 operation is required as approver of the last flow",
    ),
    "25-flow-without-name": lambda p: (
        {"flows": _flows({"approverUuid": p.boss.uuid})},
        "name cannot be null",
    ),
    "26-flow-without-approver": lambda p: ({"flows": _flows({"name": "a"})}, "approverUuid cannot be null"),
    "27-approver-not-in-project": lambda p: (
        {"flows": _flows({"name": "a", "approverUuid": p.outsider.uuid}, {"name": "b", "approverUuid": p.boss.uuid})},
        f"virtual id[uuid:{p.outsider.uuid}] not belong to project[uuid:{p.project}]",
    ),
}


def _people(world: World) -> People:
    project = world.project()["uuid"]
    return People(project, world.person(project=project), world.system_admin(), world.person())


@pytest.mark.parametrize("case", BAD_COLLECTIONS)
def test_create_collection_validation(world: World, case: str) -> None:
    people = _people(world)
    extra, details = BAD_COLLECTIONS[case](people)
    name = unique("collection")
    params = {"name": name, "projectUuid": people.project, "ticketTypeUuids": [VM_TICKET_TYPE], **extra}
    world.admin.post("/tickets/flow-collections", params).expect_error("SYS.1007", details)
    assert world.admin.query("/tickets/flow-collections", f"name={name}").inventories == []


@pytest.mark.parametrize("case", [c for c in BAD_COLLECTIONS if c != "19-flows-missing"])
def test_update_collection_flows_validation(world: World, case: str) -> None:
    people = _people(world)
    extra, details = BAD_COLLECTIONS[case](people)
    created = world.collection(people.project, [people.member.uuid, people.boss.uuid])
    world.admin.action(
        f"/tickets/flow-collections/{created['uuid']}/actions", "updateIAM2TicketFlowCollection", extra
    ).expect_error("SYS.1007", details)
    assert collection(world.admin, created["uuid"])["flows"] == created["flows"]


def test_one_ticket_type_one_collection_per_project(world: World) -> None:
    people = _people(world)
    world.collection(people.project, [people.boss.uuid])
    error = "one ticket type can only have one matches flow collection"
    params = {
        "name": unique("collection"),
        "projectUuid": people.project,
        "flows": [{"name": "a", "approverUuid": people.boss.uuid}],
        "ticketTypeUuids": [VM_TICKET_TYPE],
    }
    world.admin.post("/tickets/flow-collections", params).expect_error("SYS.1007", error)
    untyped = world.collection(people.project, [people.boss.uuid], ticketTypeUuids=[])
    world.admin.post(
        f"/tickets/flow-collections/{untyped['uuid']}/ticket-types", {"ticketTypeUuids": [VM_TICKET_TYPE]}
    ).expect_error("SYS.1007", error)
    # Another project may bind the same type (the rule is per project).
    other = _people(world)
    assert world.collection(other.project, [other.boss.uuid])["ticketTypeUuids"] == [VM_TICKET_TYPE]


def test_collection_and_flow_apis_are_admin_only(world: World) -> None:
    cast = world.two_step()
    params = {
        "name": unique("collection"),
        "projectUuid": cast.project["uuid"],
        "flows": [{"name": "a", "approverUuid": cast.last.uuid}],
    }
    cast.last.client.post("/tickets/flow-collections", params).expect_error("ID.1002")
    cast.last.client.post(
        "/tickets/flow", {"name": "x", "approverUuid": cast.last.uuid, "collectionUuid": cast.collection["uuid"]}
    ).expect_error("ID.1002")


# --- flow operations -------------------------------------------------------------------------------------


def _add_flow(world: World, collection_uuid: str, approver: str, **extra: Any) -> Any:
    return world.admin.post(
        "/tickets/flow", {"name": unique("flow"), "approverUuid": approver, "collectionUuid": collection_uuid, **extra}
    )


def test_add_flow_after_a_parent_inserts_it_into_the_chain(world: World) -> None:
    cast = world.two_step()
    step1, step2 = flow_uuids(cast.collection)
    middle_person = world.person(project=cast.project["uuid"])
    added = _add_flow(world, cast.collection["uuid"], middle_person.uuid, parentFlowUuid=step1).inventory
    assert added["parentFlowUuid"] == step1
    assert added["approverUuid"] == middle_person.uuid
    assert added["valid"] is True
    assert flow_uuids(collection(world.admin, cast.collection["uuid"])) == [step1, added["uuid"], step2]

    # A new ticket now walks three steps.
    uuid = cast.create_ticket()["uuid"]
    assert cast.change(cast.first, uuid, "approve").inventory["currentFlowUuid"] == added["uuid"]
    cast.change(cast.last, uuid, "approve").expect_error("SYS.1006", NOT_APPROVER.format(uuid=middle_person.uuid))
    assert cast.change(middle_person, uuid, "approve").inventory["currentFlowUuid"] == step2
    assert cast.change(cast.last, uuid, "approve").inventory["status"] == "FinalApproved"


def test_add_flow_without_a_parent_appends_it(world: World) -> None:
    cast = world.two_step()
    step1, step2 = flow_uuids(cast.collection)
    _add_flow(world, cast.collection["uuid"], cast.first.uuid).expect_error(
        "SYS.1007", "admin or iam2 operation is required as approver of the last flow"
    )
    final_boss = world.system_admin()
    added = _add_flow(world, cast.collection["uuid"], final_boss.uuid, approverTitle="SystemAdmin").inventory
    assert added["parentFlowUuid"] == step2
    assert flow_uuids(collection(world.admin, cast.collection["uuid"])) == [step1, step2, added["uuid"]]


def test_add_flow_validation(world: World) -> None:
    cast = world.two_step()
    uuid = cast.collection["uuid"]
    world.admin.post("/tickets/flow", {"approverUuid": cast.last.uuid, "collectionUuid": uuid}).expect_error(
        "SYS.1007", "name is needed when create a flow"
    )
    missing = "abcdef0123456789abcdef0123456789"
    _add_flow(world, uuid, missing).expect_error("SYS.1007", f"can not find IAM2VirtualIDVO[uuid:{missing}]")
    outsider = world.person()
    step1 = flow_uuids(cast.collection)[0]
    _add_flow(world, uuid, outsider.uuid, parentFlowUuid=step1).expect_error(
        "SYS.1007", f"virtual id[uuid:{outsider.uuid}] not belong to project[uuid:{cast.project['uuid']}]"
    )
    _add_flow(world, uuid, cast.last.uuid, approverTitle="Chief").expect_error(
        "SYS.1007", f"wrong approver title Chief, valid value is {TITLES}"
    )
    foreign = flow_uuids(world.two_step().collection)[0]
    _add_flow(world, uuid, cast.first.uuid, parentFlowUuid=foreign).expect_error(
        "SYS.1007", f"parent flow[uuid:{foreign}] does not belong to flow collection[uuid:{uuid}]"
    )
    assert collection(world.admin, uuid)["flows"] == cast.collection["flows"]


def _three_steps(world: World) -> tuple[TwoStep, Person, list[str]]:
    cast = world.two_step()
    middle = world.person(project=cast.project["uuid"])
    step1 = flow_uuids(cast.collection)[0]
    ok(_add_flow(world, cast.collection["uuid"], middle.uuid, parentFlowUuid=step1))
    return cast, middle, flow_uuids(collection(world.admin, cast.collection["uuid"]))


@pytest.mark.parametrize("position", [0, 1])
def test_delete_flow_relinks_the_chain(world: World, position: int) -> None:
    cast, _middle, chain = _three_steps(world)
    assert world.admin.delete(f"/tickets/flow/{chain[position]}").body == {}
    remaining = collection(world.admin, cast.collection["uuid"])
    assert flow_uuids(remaining) == [u for i, u in enumerate(chain) if i != position]
    head = next(f for f in remaining["flows"] if f["uuid"] == flow_uuids(remaining)[0])
    assert "parentFlowUuid" not in head
    assert world.admin.query("/tickets/flow", f"uuid={chain[position]}").inventories == []
    assert remaining["status"] == "Valid"


def test_delete_flow_guards(world: World) -> None:
    cast, _middle, chain = _three_steps(world)
    uuid = cast.collection["uuid"]
    world.admin.delete(f"/tickets/flow/{chain[2]}").expect_error(
        "SYS.1007", "admin or iam2 operation is required as approver of the last flow"
    )
    ok(world.admin.delete(f"/tickets/flow/{chain[0]}"))
    ok(world.admin.delete(f"/tickets/flow/{chain[1]}"))
    world.admin.delete(f"/tickets/flow/{chain[2]}").expect_error(
        "SYS.1006", f"cannot delete the only flow of flow collection[uuid:{uuid}]"
    )
    assert flow_uuids(collection(world.admin, uuid)) == [chain[2]]
    assert world.admin.delete(f"/tickets/flow/{'0' * 32}").body == {}


@pytest.mark.parametrize("mode", ["Permissive", "Enforcing"])
def test_delete_flow_with_a_ticket_waiting_on_it(world: World, mode: str) -> None:
    cast, _middle, chain = _three_steps(world)
    uuid = cast.create_ticket()["uuid"]
    reply = world.admin.delete(f"/tickets/flow/{chain[0]}", deleteMode=mode)
    if mode == "Permissive":
        reply.expect_error(
            "SYS.1006",
            f"cannot change flow[uuid:{chain[0]}]: 1 ticket(s) in progress use it; "
            "finish them or use deleteMode=Enforcing to reject them",
        )
        assert status_of(world.admin, uuid) == "Pending"
        assert flow_uuids(collection(world.admin, cast.collection["uuid"])) == chain
        return
    assert reply.body == {}
    assert status_of(world.admin, uuid) == "Rejected"
    last = steps(history(world.admin, uuid))[-1]
    assert last == Step(
        "Pending", "Rejected", "System", ADMIN_UUID, "step-1", "the current flow is deleted, reject this ticket"
    )
    assert flow_uuids(collection(world.admin, cast.collection["uuid"])) == chain[1:]


def test_update_collection_replaces_flows_and_fields(world: World) -> None:
    cast = world.two_step()
    old = flow_uuids(cast.collection)
    reviewer = world.person(project=cast.project["uuid"])
    updated = world.admin.action(
        f"/tickets/flow-collections/{cast.collection['uuid']}/actions",
        "updateIAM2TicketFlowCollection",
        {
            "name": "renamed",
            "description": "new chain",
            "flows": [
                {"name": "review", "approverUuid": reviewer.uuid, "approverTitle": "ProjectOperator"},
                {"name": "sign", "approverUuid": cast.last.uuid},
            ],
        },
    ).inventory
    assert (updated["name"], updated["description"], updated["status"]) == ("renamed", "new chain", "Valid")
    chain = flow_uuids(updated)
    flows = {f["uuid"]: f for f in updated["flows"]}
    assert [(flows[u]["name"], flows[u]["approverUuid"]) for u in chain] == [
        ("review", reviewer.uuid),
        ("sign", cast.last.uuid),
    ]
    assert not set(chain) & set(old)
    assert all(world.admin.query("/tickets/flow", f"uuid={u}").inventories == [] for u in old)
    assert world.admin.query("/tickets/flow", f"collectionUuid={cast.collection['uuid']}").inventories != []
    created = cast.create_ticket()
    assert created["currentFlowUuid"] == chain[0]
    cast.change(cast.last, created["uuid"], "approve").expect_error("SYS.1006", NOT_APPROVER.format(uuid=reviewer.uuid))
    # The old first approver is no approver of this collection any more: the ticket is invisible to it.
    cast.change(cast.first, created["uuid"], "approve").expect_error("SYS.1003")
    assert cast.change(reviewer, created["uuid"], "approve").inventory["currentFlowUuid"] == chain[1]


def test_update_collection_flows_refused_while_tickets_are_in_progress(world: World) -> None:
    cast = world.two_step()
    cast.create_ticket()
    uuid = cast.collection["uuid"]
    world.admin.action(
        f"/tickets/flow-collections/{uuid}/actions",
        "updateIAM2TicketFlowCollection",
        {"flows": [{"name": "only", "approverUuid": cast.last.uuid}]},
    ).expect_error(
        "SYS.1006",
        f"cannot change flow collection[uuid:{uuid}]: 1 ticket(s) in progress use it; "
        "finish them or use deleteMode=Enforcing to reject them",
    )
    assert collection(world.admin, uuid)["flows"] == cast.collection["flows"]


@pytest.mark.parametrize("mode", ["Permissive", "Enforcing"])
def test_delete_collection_with_tickets_in_progress(world: World, mode: str) -> None:
    cast = world.two_step()
    uuid = cast.collection["uuid"]
    waiting = cast.create_ticket()["uuid"]
    done = reach(cast, "Rejected")
    reply = world.admin.delete(f"/tickets/flow-collections/{uuid}", deleteMode=mode)
    if mode == "Permissive":
        reply.expect_error(
            "SYS.1006",
            f"cannot change flow collection[uuid:{uuid}]: 1 ticket(s) in progress use it; "
            "finish them or use deleteMode=Enforcing to reject them",
        )
        assert status_of(world.admin, waiting) == "Pending"
        assert collection(world.admin, uuid)["uuid"] == uuid
        return
    assert reply.body == {}
    assert world.admin.query("/tickets/flow-collections", f"uuid={uuid}").inventories == []
    assert world.admin.query("/tickets/flow", f"collectionUuid={uuid}").inventories == []
    assert status_of(world.admin, waiting) == "Rejected"
    assert steps(history(world.admin, waiting))[-1] == Step(
        "Pending", "Rejected", "System", ADMIN_UUID, "step-1", "flow collection is deleted, reject this ticket"
    )
    assert len(history(world.admin, done)) == 2  # a ticket not in progress is left alone


def test_is_default_is_unique_per_project(world: World) -> None:
    project = world.project()["uuid"]
    boss = world.system_admin()
    first = world.collection(project, [boss.uuid], ticketTypeUuids=[], isDefault=True)
    assert first["isDefault"] is True
    elsewhere = world.project()["uuid"]
    foreign = world.collection(elsewhere, [boss.uuid], ticketTypeUuids=[], isDefault=True)
    second = world.collection(project, [boss.uuid], ticketTypeUuids=[], isDefault=True)
    assert collection(world.admin, first["uuid"])["isDefault"] is False
    assert collection(world.admin, second["uuid"])["isDefault"] is True

    path = f"/tickets/flow-collections/{first['uuid']}/actions"
    ok(world.admin.action(path, "updateIAM2TicketFlowCollection", {"isDefault": True}))
    defaults = world.admin.query("/tickets/flow-collections", f"projectUuid={project}", "isDefault=true").inventories
    assert [c["uuid"] for c in defaults] == [first["uuid"]]
    assert collection(world.admin, foreign["uuid"])["isDefault"] is True
    assert collection(world.admin, SYSTEM_COLLECTION)["isDefault"] is True


def test_change_collection_state(world: World) -> None:
    cast = world.two_step()
    uuid = cast.collection["uuid"]
    path = f"/tickets/flow-collections/{uuid}/actions"
    running = cast.create_ticket()["uuid"]
    stopped = reach(cast, "Cancelled")
    disabled = world.admin.action(path, "changeTicketFlowCollectionState", {"stateEvent": "disable"}).inventory
    assert (disabled["state"], disabled["status"]) == ("Disabled", "Valid")
    assert collection(world.admin, uuid)["state"] == "Disabled"

    # Tickets on the way keep going; a stopped one cannot restart, and new ones go elsewhere.
    assert cast.change(cast.first, running, "approve").inventory["status"] == "IntermediateApproved"
    refused = f"Ticket flow collection[uuid:{uuid}] is disable, can not be used"
    cast.change(cast.submitter, stopped, "reopen").expect_error("SYS.1006", refused)
    assert cast.create_ticket()["flowCollectionUuid"] == SYSTEM_COLLECTION

    enabled = world.admin.action(path, "changeTicketFlowCollectionState", {"stateEvent": "enable"}).inventory
    assert enabled["state"] == "Enabled"
    assert cast.change(cast.submitter, stopped, "reopen").inventory["status"] == "Pending"
    assert cast.create_ticket()["flowCollectionUuid"] == uuid


def test_add_and_remove_ticket_types(world: World) -> None:
    project = world.project()
    submitter = world.person(project=project["uuid"])
    boss = world.system_admin()
    untyped = world.collection(project["uuid"], [boss.uuid], ticketTypeUuids=[])
    uuid = untyped["uuid"]
    assert untyped["ticketTypeUuids"] == []
    cast = TwoStep(world, project, submitter, boss, boss, untyped)
    assert cast.create_ticket()["flowCollectionUuid"] == SYSTEM_COLLECTION

    path = f"/tickets/flow-collections/{uuid}/ticket-types"
    assert world.admin.post(path, {"ticketTypeUuids": [VM_TICKET_TYPE]}).body == {}
    assert collection(world.admin, uuid)["ticketTypeUuids"] == [VM_TICKET_TYPE]
    bound = world.admin.query(
        "/tickets/flow-collections", f"ticketTypeUuids={VM_TICKET_TYPE}", f"projectUuid={project['uuid']}"
    ).inventories
    assert [c["uuid"] for c in bound] == [uuid]
    assert cast.create_ticket()["flowCollectionUuid"] == uuid

    assert world.admin.delete(path, ticketTypeUuids=[VM_TICKET_TYPE]).body == {}
    assert collection(world.admin, uuid)["ticketTypeUuids"] == []
    assert cast.create_ticket()["flowCollectionUuid"] == SYSTEM_COLLECTION

    missing = "fedcba9876543210fedcba9876543210"
    world.admin.post(path, {"ticketTypeUuids": [missing]}).expect_error(
        "SYS.1003", f"invalid field[ticketTypeUuids], resource[uuids:[{missing}], type:TicketTypeVO] not found"
    )


def test_query_ticket_type_returns_the_built_in_type(world: World) -> None:
    member = world.person()
    for client in (world.admin, member.client):
        found = client.query("/ticket-types").inventories
        vm = [t for t in found if t["uuid"] == VM_TICKET_TYPE]
        assert len(vm) == 1
        assert vm[0]["name"] == vm[0]["type"] == "CREATE_VM_INSTANCE_TICKET_TYPE"
        assert vm[0]["adminOnly"] is False
    assert [t["uuid"] for t in world.admin.query(f"/ticket-types/{VM_TICKET_TYPE}").inventories] == [VM_TICKET_TYPE]
    by_name = world.admin.query("/ticket-types", "type=CREATE_VM_INSTANCE_TICKET_TYPE").inventories
    assert [t["uuid"] for t in by_name] == [VM_TICKET_TYPE]
