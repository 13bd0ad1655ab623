"""What identity changes do to tickets, and who sees which ticket (spec §5.4, §5.8, §5.10)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ticket_steps import (
    APPROVER_LOST,
    NOT_FOUND,
    Step,
    collection,
    flow_uuids,
    history,
    ok,
    reach,
    status_of,
    steps,
    ticket,
)
from tests.world import Person, TwoStep, World
from tests.zstack_client import ADMIN_UUID, ZStackClient, vm_request

# --- §5.8 approver loss ------------------------------------------------------------------------------

LOSSES = {
    # loss -> (which step's approver is lost, how)
    "first-removed-from-project": (0, "remove"),
    "first-deleted": (0, "delete"),
    "last-deleted": (1, "delete"),
}


def _lose(cast: TwoStep, who: Person, how: str) -> None:
    if how == "remove":
        path = f"/iam2/projects/{cast.project['uuid']}/virtual-ids"
        assert ok(cast.world.admin.delete(path, virtualIDUuids=[who.uuid])) == {}
    else:
        assert ok(cast.world.admin.delete(f"/iam2/virtual-ids/{who.uuid}")) == {}


@pytest.mark.parametrize("loss", LOSSES)
def test_approver_loss_invalidates_the_collection_and_rejects_tickets(world: World, loss: str) -> None:
    index, how = LOSSES[loss]
    cast = world.two_step()
    uuid = cast.collection["uuid"]
    chain = flow_uuids(cast.collection)
    in_progress = {status: reach(cast, status) for status in ("Pending", "IntermediateApproved")}
    settled = {status: reach(cast, status) for status in ("FinalApproved", "Rejected", "Cancelled")}
    settled_history = {status: history(world.admin, t) for status, t in settled.items()}
    lost = cast.first if index == 0 else cast.last

    _lose(cast, lost, how)

    after = collection(world.admin, uuid)
    assert (after["status"], after["state"]) == ("Invalid", "Enabled")
    validity = {f["uuid"]: f["valid"] for f in after["flows"]}
    assert validity == {chain[0]: index != 0, chain[1]: index != 1}
    invalid = world.admin.query("/tickets/flow", f"collectionUuid={uuid}", "valid=false").inventories
    assert [f["uuid"] for f in invalid] == [chain[index]]

    for status, t in in_progress.items():
        assert status_of(world.admin, t) == "Rejected", status
        flow_name = "step-1" if status == "Pending" else "step-2"
        assert steps(history(world.admin, t))[-1] == Step(
            status, "Rejected", "System", ADMIN_UUID, flow_name, APPROVER_LOST
        )
    for status, t in settled.items():
        assert status_of(world.admin, t) == status
        assert history(world.admin, t) == settled_history[status]

    invalid_error = f"Ticket flow collection[uuid:{uuid}] is invalid, contact admin to correct it"
    cast.submitter.client.post("/tickets", cast.ticket_params(flowCollectionUuid=uuid)).expect_error(
        "SYS.1006", invalid_error
    )
    cast.change(cast.submitter, in_progress["Pending"], "reopen").expect_error("SYS.1006", invalid_error)

    # Replacing the flows repairs the collection (§6.3); the rejected ticket can then restart.
    replacement = [world.person(project=cast.project["uuid"]), world.system_admin()]
    flows = [{"name": f"new-{i}", "approverUuid": p.uuid} for i, p in enumerate(replacement)]
    repaired = world.admin.action(
        f"/tickets/flow-collections/{uuid}/actions", "updateIAM2TicketFlowCollection", {"flows": flows}
    ).inventory
    assert repaired["status"] == "Valid"
    reopened = cast.change(cast.submitter, in_progress["Pending"], "reopen").inventory
    assert (reopened["status"], reopened["currentFlowUuid"]) == ("Pending", flow_uuids(repaired)[0])


def test_removing_a_privileged_approver_from_the_project_keeps_the_collection(world: World) -> None:
    cast = world.two_step()
    path = f"/iam2/projects/{cast.project['uuid']}/virtual-ids"
    ok(world.admin.post(path, {"virtualIDUuids": [cast.last.uuid]}))
    waiting = cast.create_ticket()["uuid"]
    ok(world.admin.delete(path, virtualIDUuids=[cast.last.uuid]))
    assert collection(world.admin, cast.collection["uuid"])["status"] == "Valid"
    assert status_of(world.admin, waiting) == "Pending"


def test_removing_a_plain_member_who_approves_nothing_changes_nothing(world: World) -> None:
    cast = world.two_step()
    bystander = world.person(project=cast.project["uuid"])
    waiting = cast.create_ticket()["uuid"]
    ok(world.admin.delete(f"/iam2/projects/{cast.project['uuid']}/virtual-ids", virtualIDUuids=[bystander.uuid]))
    assert collection(world.admin, cast.collection["uuid"])["status"] == "Valid"
    assert status_of(world.admin, waiting) == "Pending"
    assert len(history(world.admin, waiting)) == 1


def test_approver_loss_in_one_project_leaves_other_projects_alone(world: World) -> None:
    cast = world.two_step()
    other = world.project()
    ok(world.admin.post(f"/iam2/projects/{other['uuid']}/virtual-ids", {"virtualIDUuids": [cast.first.uuid]}))
    elsewhere = world.collection(other["uuid"], [cast.first.uuid, cast.last.uuid])
    ok(world.admin.delete(f"/iam2/projects/{cast.project['uuid']}/virtual-ids", virtualIDUuids=[cast.first.uuid]))
    assert collection(world.admin, cast.collection["uuid"])["status"] == "Invalid"
    assert collection(world.admin, elsewhere["uuid"])["status"] == "Valid"


# --- §5.10 orphaned tickets -----------------------------------------------------------------------------

ORPHANED = {
    "submitter-deleted": "operation denied because the ticket submitter[uuid:{submitter}] has been deleted, "
    "the ticket[uuid:{uuid}, name:{name}] can only be deleted now",
    "project-deleted": "operation denied because the project[uuid:{project}] of the ticket has been deleted, "
    "the ticket[uuid:{uuid}, name:{name}] can only be deleted now",
}

# operation -> (status the ticket is in, who would normally do it)
OPERATIONS = {
    "approve": ("Pending", "first"),
    "reject": ("IntermediateApproved", "last"),
    "cancel": ("Pending", "submitter"),
    "reopen": ("Rejected", "submitter"),
    "update": ("Cancelled", "submitter"),
}


def _orphan(cast: TwoStep, how: str) -> None:
    admin = cast.world.admin
    if how == "submitter-deleted":
        assert ok(admin.delete(f"/iam2/virtual-ids/{cast.submitter.uuid}")) == {}
    else:
        assert ok(admin.delete(f"/iam2/projects/{cast.project['uuid']}")) == {}


def _operate(cast: TwoStep, who: Person | ZStackClient, uuid: str, operation: str) -> Any:
    if operation == "update":
        client = who.client if isinstance(who, Person) else who
        return client.action(f"/tickets/{uuid}/actions", "updateTicketRequest", {"requests": [vm_request("late")]})
    return cast.change(who, uuid, operation)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("how", ORPHANED)
def test_orphaned_tickets_can_only_be_deleted(world: World, how: str, operation: str) -> None:
    cast = world.two_step()
    status, actor = OPERATIONS[operation]
    uuid = reach(cast, status)
    name = ticket(world.admin, uuid)["name"]  # type: ignore[index]
    before = history(world.admin, uuid)
    _orphan(cast, how)

    # The submitter's sessions die with it; the admin then stands in for the owner.
    who: Person | ZStackClient = world.admin
    if actor != "submitter" or how == "project-deleted":
        who = {"submitter": cast.submitter, "first": cast.first, "last": cast.last}[actor]
    details = ORPHANED[how].format(submitter=cast.submitter.uuid, project=cast.project["uuid"], uuid=uuid, name=name)
    _operate(cast, who, uuid, operation).expect_error("SYS.1006", details)
    assert status_of(world.admin, uuid) == status
    assert history(world.admin, uuid) == before

    assert ok(world.admin.delete(f"/tickets/{uuid}")) == {}
    assert ticket(world.admin, uuid) is None
    archived = world.admin.query("/tickets/archives", f"ticketUuid={uuid}").inventories
    assert [(a["ticketUuid"], a["status"]) for a in archived] == [(uuid, status)]


def test_submitter_of_a_deleted_project_may_still_delete_its_ticket(world: World) -> None:
    cast = world.two_step()
    uuid = cast.create_ticket()["uuid"]
    _orphan(cast, "project-deleted")
    assert ok(cast.submitter.client.delete(f"/tickets/{uuid}")) == {}
    assert ticket(world.admin, uuid) is None


# --- §5.4 visibility --------------------------------------------------------------------------------------

VIEWERS = {
    # viewer -> sees the ticket
    "admin": True,
    "submitter": True,
    "first-approver": True,
    "last-approver": True,
    "project-admin": True,
    "same-project-member": False,
    "other-project-member": False,
    "other-project-admin": False,
}


def _viewer(world: World, cast: TwoStep, name: str) -> ZStackClient:
    project = cast.project["uuid"]
    if name == "admin":
        return world.admin
    if name in ("submitter", "first-approver", "last-approver"):
        return {"submitter": cast.submitter, "first-approver": cast.first, "last-approver": cast.last}[name].client
    if name == "project-admin":
        return world.person(project=project, attributes=[{"name": "__ProjectAdmin__", "value": project}]).client
    if name == "same-project-member":
        return world.person(project=project).client
    other = world.project()["uuid"]
    attributes = [{"name": "__ProjectAdmin__", "value": other}] if name == "other-project-admin" else None
    return world.person(project=other, attributes=attributes).client


@pytest.mark.parametrize("viewer", VIEWERS)
def test_visibility(world: World, viewer: str) -> None:
    cast = world.two_step()
    uuid = reach(cast, "IntermediateApproved")
    client = _viewer(world, cast, viewer)
    visible = VIEWERS[viewer]

    found = client.query("/tickets", f"uuid={uuid}").inventories
    assert [t["uuid"] for t in found] == ([uuid] if visible else [])
    assert (ticket(client, uuid) is not None) == visible
    rows = client.query("/tickets/histories", f"ticketUuid={uuid}").inventories
    assert len(rows) == (2 if visible else 0)
    by_uuid = client.query(f"/tickets/histories/{history(world.admin, uuid)[0]['uuid']}").inventories
    assert len(by_uuid) == (1 if visible else 0)
    projected = client.query("/tickets", f"flowCollectionUuid={cast.collection['uuid']}", count="true")
    assert projected.body["total"] == (1 if visible else 0)
    if visible:
        return

    everything = client.query("/tickets").inventories
    assert uuid not in {t["uuid"] for t in everything}
    if viewer.startswith("other-project"):
        assert everything == []
        assert client.query("/tickets/histories").inventories == []
    not_found = NOT_FOUND.format(uuid=uuid)
    cast.change(client, uuid, "approve").expect_error("SYS.1003", not_found)
    cast.change(client, uuid, "cancel").expect_error("SYS.1003", not_found)
    _operate(cast, client, uuid, "update").expect_error("SYS.1003", not_found)
    client.delete(f"/tickets/{uuid}").expect_error("SYS.1003", not_found)
    assert status_of(world.admin, uuid) == "IntermediateApproved"


ARCHIVE_VIEWERS = {
    "admin": True,
    "submitter": True,
    "project-admin": True,
    "same-project-member": False,
    "other-project-member": False,
}


@pytest.mark.parametrize("viewer", ARCHIVE_VIEWERS)
def test_archive_visibility(world: World, viewer: str) -> None:
    cast = world.two_step()
    uuid = reach(cast, "Rejected")
    ok(cast.submitter.client.delete(f"/tickets/{uuid}"))
    client = _viewer(world, cast, viewer)
    visible = ARCHIVE_VIEWERS[viewer]
    archives = client.query("/tickets/archives", f"ticketUuid={uuid}").inventories
    assert [a["ticketUuid"] for a in archives] == ([uuid] if visible else [])
    rows = client.query("/tickets/histories/archives", f"ticketUuid={uuid}").inventories
    assert len(rows) == (2 if visible else 0)


def test_approver_of_another_collection_in_the_project_does_not_see_the_ticket(world: World) -> None:
    cast = world.two_step()
    uuid = cast.create_ticket()["uuid"]
    reviewer = world.person(project=cast.project["uuid"])
    world.collection(cast.project["uuid"], [reviewer.uuid, cast.last.uuid], ticketTypeUuids=[])
    assert ticket(reviewer.client, uuid) is None
    assert ticket(cast.last.client, uuid) is not None
