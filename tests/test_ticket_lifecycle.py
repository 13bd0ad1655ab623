"""A ticket's life over real HTTP, end to end, on SQLite and PostgreSQL (spec §2, §3, §5)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ticket_steps import (
    NOT_UPDATABLE,
    Step,
    assert_increasing,
    flow_uuids,
    history,
    opened,
    status_of,
    steps,
    ticket,
    vid,
)
from tests.world import Person, TwoStep, World
from tests.zstack_client import ADMIN_UUID, CREATE_VM, VM_TICKET_TYPE, ZStackClient, unique, vm_request

SEED_REQUEST: dict[str, Any] = {
    "requestName": "create vm",
    "apiName": "org.zstack.header.vm.APICreateVmInstanceMsg",
    "executeTimes": 1,
    "apiBody": {
        "name": "vm-from-ticket",
        "instanceOfferingUuid": "9a0b2c4e6f8a4b1c8d2e3f4a5b6c7d8e",
        "imageUuid": "1f2e3d4c5b6a47988a7b6c5d4e3f2a1b",
        "l3NetworkUuids": ["0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d"],
        "strategy": "InstantStart",
    },
}


def _put_actions(client: ZStackClient, uuid: str, body: dict[str, Any]) -> Any:
    """``PUT /zstack/v1/tickets/{uuid}/actions`` with ``body`` exactly as given."""
    return client.call("PUT", f"/tickets/{uuid}/actions", body=body)


def _seed_update(requests: list[dict[str, Any]]) -> dict[str, Any]:
    """The seed document's UpdateTicketRequest body."""
    return {"updateTicketRequest": {"requests": requests}, "systemTags": [], "userTags": []}


def _renamed(name: str) -> dict[str, Any]:
    return {**SEED_REQUEST, "apiBody": {**SEED_REQUEST["apiBody"], "name": name}}


def test_two_step_approval_end_to_end(world: World) -> None:
    project = world.project()
    submitter = world.person(project=project["uuid"])
    first = world.person(project=project["uuid"])
    last = world.system_admin()
    created = world.admin.post(
        "/tickets/flow-collections",
        {
            "name": unique("collection"),
            "projectUuid": project["uuid"],
            "flows": [
                {"name": "step-1", "approverUuid": first.uuid},
                {"name": "step-2", "approverUuid": last.uuid, "approverTitle": "SystemAdmin"},
            ],
            "ticketTypeUuids": [VM_TICKET_TYPE],
        },
    ).inventory
    assert (created["state"], created["status"], created["isDefault"]) == ("Enabled", "Valid", False)
    assert created["projectUuid"] == project["uuid"]
    assert created["ticketTypeUuids"] == [VM_TICKET_TYPE]
    step1, step2 = flow_uuids(created)
    cast = TwoStep(world, project, submitter, first, last, created)

    name = unique("ticket")
    body = {
        "params": {
            "name": name,
            "requests": [SEED_REQUEST],
            "accountSystemType": "iam2",
            "accountSystemContext": {"projectUuid": project["uuid"], "virtualIDUuid": submitter.uuid},
        },
        "systemTags": [],
        "userTags": [],
    }
    inventory = submitter.client.call("POST", "/tickets", body=body).inventory
    uuid = inventory["uuid"]
    assert inventory["status"] == "Pending"
    assert inventory["name"] == name
    assert inventory["request"] == [SEED_REQUEST]
    assert isinstance(inventory["request"][0]["executeTimes"], int)
    assert inventory["accountSystemType"] == "iam2"
    assert inventory["accountSystemContext"] == {"projectUuid": project["uuid"], "virtualIDUuid": submitter.uuid}
    assert inventory["ticketTypeUuid"] == VM_TICKET_TYPE
    assert inventory["flowCollectionUuid"] == created["uuid"]
    assert inventory["currentFlowUuid"] == step1

    approved = _put_actions(
        first.client, uuid, {"changeTicketStatus": {"statusEvent": "approve", "comment": "approve ticket"}}
    ).inventory
    assert approved["status"] == "IntermediateApproved"
    assert approved["currentFlowUuid"] == step2

    refused = _put_actions(submitter.client, uuid, _seed_update([_renamed("vm-renamed")]))
    refused.expect_error("SYS.1006", NOT_UPDATABLE.format(uuid=uuid, name=name, status="IntermediateApproved"))
    assert ticket(submitter.client, uuid)["request"] == [SEED_REQUEST]  # type: ignore[index]

    final = _put_actions(last.client, uuid, {"changeTicketStatus": {"statusEvent": "approve"}}).inventory
    assert final["status"] == "FinalApproved"
    assert "currentFlowUuid" not in final
    assert "currentFlowUuid" not in ticket(world.admin, uuid)  # type: ignore[operator]

    rows = history(world.admin, uuid)
    assert_increasing(rows)
    assert all(r["ticketUuid"] == uuid for r in rows)
    assert steps(rows)[:3] == [
        opened(cast),
        vid(first, "step-1", "Pending", "IntermediateApproved", "approve ticket"),
        vid(last, "step-2", "IntermediateApproved", "FinalApproved"),
    ]
    # Anything later can only be the execution record (§5.7), which comes last and leaves FinalApproved.
    assert all((r["fromStatus"], r["toStatus"]) == ("FinalApproved", "FinalApproved") for r in rows[3:])
    assert history(submitter.client, uuid) == rows
    descending = world.admin.query("/tickets/histories", f"ticketUuid={uuid}", sort="-sequence").inventories
    assert [r["uuid"] for r in descending] == [r["uuid"] for r in reversed(rows)]


def test_reject_update_reopen_then_approve(world: World) -> None:
    cast = world.two_step()
    step1, step2 = flow_uuids(cast.collection)
    created = cast.create_ticket()
    uuid, name = created["uuid"], created["name"]

    rejected = cast.change(cast.first, uuid, "reject", "not this week").inventory
    assert rejected["status"] == "Rejected"
    assert rejected["currentFlowUuid"] == step1  # unchanged by reject (§5.5)

    new_requests = [vm_request("vm-after-reject", times=2)]
    updated = cast.submitter.client.action(
        f"/tickets/{uuid}/actions",
        "updateTicketRequest",
        {"requests": new_requests, "description": "smaller vm"},
        systemTags=[],
        userTags=[],
    ).inventory
    assert updated["status"] == "Rejected"
    assert updated["request"] == new_requests
    assert updated["description"] == "smaller vm"
    assert updated["name"] == name

    reopened = cast.change(cast.submitter, uuid, "reopen", "fixed").inventory
    assert (reopened["status"], reopened["currentFlowUuid"]) == ("Pending", step1)
    middle = cast.change(cast.first, uuid, "approve").inventory
    assert (middle["status"], middle["currentFlowUuid"]) == ("IntermediateApproved", step2)
    final = cast.change(cast.last, uuid, "approve", "ok").inventory
    assert final["status"] == "FinalApproved"
    assert final["request"] == new_requests

    rows = history(world.admin, uuid)
    assert_increasing(rows)
    assert steps(rows)[:6] == [
        opened(cast),
        vid(cast.first, "step-1", "Pending", "Rejected", "not this week"),
        Step("Rejected", "Rejected", "IAM2VirtualIDVO", cast.submitter.uuid, None, None, "RequestUpdated"),
        vid(cast.submitter, "step-1", "Rejected", "Pending", "fixed"),
        vid(cast.first, "step-1", "Pending", "IntermediateApproved"),
        vid(cast.last, "step-2", "IntermediateApproved", "FinalApproved", "ok"),
    ]


@pytest.mark.parametrize("approved_first", [False, True], ids=["from-pending", "from-intermediate"])
def test_cancel_and_reopen_by_the_submitter(world: World, approved_first: bool) -> None:
    cast = world.two_step()
    step1, step2 = flow_uuids(cast.collection)
    uuid = cast.create_ticket()["uuid"]
    before = "Pending"
    if approved_first:
        cast.change(cast.first, uuid, "approve")
        before = "IntermediateApproved"

    cancelled = cast.change(cast.submitter, uuid, "cancel", "changed my mind").inventory
    assert cancelled["status"] == "Cancelled"
    assert cancelled["currentFlowUuid"] == (step2 if approved_first else step1)
    reopened = cast.change(cast.submitter, uuid, "reopen").inventory
    assert (reopened["status"], reopened["currentFlowUuid"]) == ("Pending", step1)  # approval restarts

    stopped_at = "step-2" if approved_first else "step-1"
    expected = [opened(cast)]
    if approved_first:
        expected.append(vid(cast.first, "step-1", "Pending", "IntermediateApproved"))
    expected += [
        vid(cast.submitter, stopped_at, before, "Cancelled", "changed my mind"),
        vid(cast.submitter, "step-1", "Cancelled", "Pending"),
    ]
    rows = history(cast.submitter.client, uuid)
    assert_increasing(rows)
    assert steps(rows) == expected


@pytest.mark.parametrize("deleter", ["submitter", "admin", "project-admin"])
def test_delete_archives_ticket_and_history(world: World, deleter: str) -> None:
    cast = world.two_step()
    created = cast.create_ticket(description="to be archived")
    uuid = created["uuid"]
    cast.change(cast.first, uuid, "approve", "looks fine")
    live = history(world.admin, uuid)
    assert len(live) == 2

    who: Person | ZStackClient
    if deleter == "submitter":
        who = cast.submitter
    elif deleter == "admin":
        who = world.admin
    else:
        who = world.person(
            project=cast.project["uuid"], attributes=[{"name": "__ProjectAdmin__", "value": cast.project["uuid"]}]
        )
    client = who.client if isinstance(who, Person) else who
    assert client.delete(f"/tickets/{uuid}").body == {}

    assert world.admin.query("/tickets", f"uuid={uuid}").inventories == []
    assert ticket(world.admin, uuid) is None
    assert world.admin.query("/tickets/histories", f"ticketUuid={uuid}").inventories == []

    archives = world.admin.query("/tickets/archives", f"ticketUuid={uuid}").inventories
    assert len(archives) == 1
    archive = archives[0]
    assert archive["uuid"] != uuid
    assert archive["ticketUuid"] == uuid
    assert archive["accountUuid"] == cast.project["linkedAccountUuid"]
    for key in (
        "name",
        "description",
        "request",
        "accountSystemType",
        "accountSystemContext",
        "flowCollectionUuid",
        "ticketTypeUuid",
        "createDate",
    ):
        assert archive[key] == created[key], key
    assert archive["status"] == "IntermediateApproved"
    assert archive["currentFlowUuid"] == flow_uuids(cast.collection)[1]
    assert cast.submitter.client.query("/tickets/archives", f"ticketUuid={uuid}").inventories == archives

    archived = world.admin.query("/tickets/histories/archives", f"ticketUuid={uuid}", sort="+sequence").inventories
    assert [r["historyUuid"] for r in archived] == [r["uuid"] for r in live]
    assert [r["sequence"] for r in archived] == [r["sequence"] for r in live]
    assert all(r["accountUuid"] == cast.project["linkedAccountUuid"] for r in archived)
    assert steps(archived) == steps(live)

    assert client.delete(f"/tickets/{uuid}").body == {}  # deleting what is gone succeeds
    cast.change(cast.last, uuid, "approve").expect_error("SYS.1003")


def test_seed_update_ticket_request_on_a_rejected_ticket(world: World) -> None:
    cast = world.two_step()
    created = cast.create_ticket()
    uuid = created["uuid"]
    cast.change(cast.first, uuid, "reject")
    assert status_of(cast.submitter.client, uuid) == "Rejected"

    new_request = _renamed("vm-seed-update")
    reply = _put_actions(cast.submitter.client, uuid, _seed_update([new_request]))
    inventory = reply.inventory
    assert inventory["uuid"] == uuid
    assert inventory["status"] == "Rejected"
    assert inventory["request"] == [new_request]
    assert inventory["request"][0]["apiName"] == CREATE_VM
    assert ticket(world.admin, uuid)["request"] == [new_request]  # type: ignore[index]
    last = history(world.admin, uuid)[-1]
    assert (last["fromStatus"], last["toStatus"], last["operationContextType"]) == (
        "Rejected",
        "Rejected",
        "RequestUpdated",
    )
    assert (last["operatorType"], last["operatorUuid"]) == ("IAM2VirtualIDVO", cast.submitter.uuid)


def test_ticket_on_the_system_default_collection_is_approved_by_admin(world: World) -> None:
    project = world.project()
    submitter = world.person(project=project["uuid"])
    params = {
        "name": unique("ticket"),
        "requests": [vm_request()],
        "accountSystemType": "iam2",
        "accountSystemContext": {"projectUuid": project["uuid"], "virtualIDUuid": submitter.uuid},
    }
    created = submitter.client.post("/tickets", params).inventory
    assert created["flowCollectionUuid"] == "872c04e82fee40509447b9ec90fc5aa1"
    final = world.admin.action(
        f"/tickets/{created['uuid']}/actions", "changeTicketStatus", {"statusEvent": "approve"}
    ).inventory
    assert final["status"] == "FinalApproved"  # one step only: the first approve is final
    assert "currentFlowUuid" not in final
    admin_row = history(world.admin, created["uuid"])[1]
    assert (admin_row["operatorType"], admin_row["operatorUuid"]) == ("AccountVO", ADMIN_UUID)
    assert (admin_row["fromStatus"], admin_row["toStatus"]) == ("Pending", "FinalApproved")
