"""Concurrent changes of one ticket over HTTP: one winner, one history row (docs/behaviour.md "Concurrency")."""

from __future__ import annotations

import threading
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest

from tests.ticket_steps import (
    ILLEGAL,
    NOT_APPROVER,
    NOT_FOUND,
    Step,
    assert_increasing,
    collection,
    flow_uuids,
    history,
    member,
    ok,
    reach,
    status_of,
    steps,
    vid,
)
from tests.world import TwoStep, World
from tests.zstack_client import Reply, ZStackClient

T = TypeVar("T")
APPROVALS = 50


def _all_at_once(tasks: list[Callable[[], T]]) -> list[T]:
    """Run every task in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(tasks))

    def run(task: Callable[[], T]) -> T:
        barrier.wait(timeout=30)
        return task()

    with ThreadPoolExecutor(len(tasks)) as pool:
        return list(pool.map(run, tasks))


def _change(base_url: str, session: str | None, ticket_uuid: str, event: str) -> Callable[[], Reply]:
    """One ChangeTicketStatus on its own HTTP client, with its own X-Job-UUID."""

    def call() -> Reply:
        client = ZStackClient(base_url, session)
        try:
            return client.call(
                "PUT",
                f"/tickets/{ticket_uuid}/actions",
                body={"changeTicketStatus": {"statusEvent": event}},
                headers={"X-Job-UUID": uuidlib.uuid4().hex},
            )
        finally:
            client.close()

    return call


def _executions(world: World, ticket_uuid: str) -> list[dict[str, Any]]:
    return world.admin.query("/tickets/executions", f"ticketUuid={ticket_uuid}").inventories


@pytest.mark.parametrize("step", ["first", "last"])
def test_concurrent_approvals_of_one_step_have_one_winner(world: World, step: str) -> None:
    cast = world.two_step()
    status = "Pending" if step == "first" else "IntermediateApproved"
    ticket_uuid = reach(cast, status)
    approver = member(cast, step)
    before = history(world.admin, ticket_uuid)

    replies = _all_at_once([_change(world.admin.base_url, approver.client.session, ticket_uuid, "approve")] * APPROVALS)

    winners = [r for r in replies if r.status == 200]
    assert len(winners) == 1, [r.body for r in replies]
    target = "IntermediateApproved" if step == "first" else "FinalApproved"
    assert winners[0].inventory["status"] == target
    loser_details = (
        NOT_APPROVER.format(uuid=cast.last.uuid)
        if step == "first"
        else ILLEGAL.format(status="FinalApproved", event="approve")
    )
    for reply in replies:
        if reply.status != 200:
            reply.expect_error("SYS.1006", loser_details)

    after = history(world.admin, ticket_uuid)
    assert after[: len(before)] == before
    new = [s for s in steps(after[len(before) :]) if s.from_status != "FinalApproved"]
    assert new == [vid(approver, f"step-{1 if step == 'first' else 2}", status, target)]
    assert status_of(world.admin, ticket_uuid) == target
    if step == "last":
        assert len(_executions(world, ticket_uuid)) == 1  # the approved call is queued exactly once


# race -> (status before, (who, event) of one side, (who, event) of the other)
RACES = {
    "approve-vs-cancel": ("IntermediateApproved", ("last", "approve"), ("submitter", "cancel")),
    "reject-vs-cancel": ("Pending", ("first", "reject"), ("submitter", "cancel")),
    "approve-vs-reject": ("IntermediateApproved", ("last", "approve"), ("last", "reject")),
}
OUTCOME = {"approve": "FinalApproved", "cancel": "Cancelled", "reject": "Rejected"}
TICKETS_PER_RACE = 6
REPLACEMENT_ROUNDS = 8


@pytest.mark.parametrize("race", RACES)
def test_racing_events_leave_one_winner_and_a_consistent_history(world: World, race: str) -> None:
    status, one, other = RACES[race]
    cast = world.two_step()
    tickets = [reach(cast, status) for _ in range(TICKETS_PER_RACE)]
    before = {t: history(world.admin, t) for t in tickets}
    base_url = world.admin.base_url
    tasks = []
    for t in tickets:
        for who, event in (one, other):
            tasks.append(_change(base_url, member(cast, who).client.session, t, event))

    replies = _all_at_once(tasks)

    for index, t in enumerate(tickets):
        pair = replies[2 * index : 2 * index + 2]
        won = [i for i, r in enumerate(pair) if r.status == 200]
        assert len(won) == 1, [r.body for r in pair]
        (winner_who, winner_event), (loser_who, loser_event) = (one, other) if won[0] == 0 else (other, one)
        final = OUTCOME[winner_event]
        assert pair[won[0]].inventory["status"] == final
        pair[1 - won[0]].expect_error("SYS.1006", ILLEGAL.format(status=final, event=loser_event))
        assert status_of(world.admin, t) == final

        after = history(world.admin, t)
        assert after[: len(before[t])] == before[t]
        new = [s for s in steps(after[len(before[t]) :]) if s.from_status != "FinalApproved"]
        flow_name = "step-1" if status == "Pending" else "step-2"
        assert new == [vid(member(cast, winner_who), flow_name, status, final)]
        assert len(_executions(world, t)) == (1 if final == "FinalApproved" else 0)


def test_racing_requests_with_one_job_uuid_run_once(world: World) -> None:
    cast = world.two_step()
    ticket_uuid = reach(cast, "Pending")
    job = uuidlib.uuid4().hex
    session = cast.first.client.session

    def send() -> httpx.Response:
        client = ZStackClient(world.admin.base_url, session)
        try:
            return client.send(
                "PUT",
                f"/tickets/{ticket_uuid}/actions",
                body={"changeTicketStatus": {"statusEvent": "approve"}},
                headers={"X-Job-UUID": job},
            )
        finally:
            client.close()

    responses = _all_at_once([send] * 20)
    accepted = [r for r in responses if r.status_code == 202]
    assert len(accepted) == 1, [(r.status_code, r.text) for r in responses]
    assert all(r.status_code == 400 and r.text == f"Duplicate job uuid[{job}]" for r in responses if r not in accepted)
    result = world.admin.poll(accepted[0].json()["location"])
    assert result.inventory["status"] == "IntermediateApproved"
    assert steps(history(world.admin, ticket_uuid))[1:] == [
        Step("Pending", "IntermediateApproved", "IAM2VirtualIDVO", cast.first.uuid, "step-1")
    ]


# --- races between ticket events and edits of the approval chain ---------------------------------------


def _delete_collection(world: World, uuid: str, mode: str) -> Callable[[], Reply]:
    def call() -> Reply:
        client = ZStackClient(world.admin.base_url, world.admin.session)
        try:
            return client.call("DELETE", f"/tickets/flow-collections/{uuid}", params={"deleteMode": mode})
        finally:
            client.close()

    return call


def _replace_flows(world: World, uuid: str, approvers: list[str]) -> Callable[[], Reply]:
    flows = [{"name": f"new-{i + 1}", "approverUuid": a} for i, a in enumerate(approvers)]

    def call() -> Reply:
        client = ZStackClient(world.admin.base_url, world.admin.session)
        try:
            return client.call(
                "PUT",
                f"/tickets/flow-collections/{uuid}/actions",
                body={"updateIAM2TicketFlowCollection": {"flows": flows}},
            )
        finally:
            client.close()

    return call


def _assert_in_progress_tickets_wait_on_live_flows(world: World, project_uuid: str) -> None:
    """The invariant edits must keep: a ticket in progress waits on an existing flow of its collection."""
    for row in world.admin.query("/tickets", f"projectUuid={project_uuid}").inventories:
        if row["status"] not in ("Pending", "IntermediateApproved"):
            continue
        flows = world.admin.query("/tickets/flow", f"collectionUuid={row['flowCollectionUuid']}").inventories
        assert row["currentFlowUuid"] in {f["uuid"] for f in flows}, row
        assert_increasing(history(world.admin, row["uuid"]))


def test_enforced_collection_delete_racing_approvals_leaves_each_ticket_one_outcome(world: World) -> None:
    cast = world.two_step()
    tickets = [reach(cast, "IntermediateApproved") for _ in range(TICKETS_PER_RACE)]
    before = {t: history(world.admin, t) for t in tickets}
    base_url = world.admin.base_url
    approvals = [_change(base_url, cast.last.client.session, t, "approve") for t in tickets]

    *approved, deleted = _all_at_once([*approvals, _delete_collection(world, cast.collection["uuid"], "Enforcing")])

    assert deleted.status == 200, deleted.body
    assert world.admin.query(f"/tickets/flow-collections/{cast.collection['uuid']}").inventories == []
    for t, reply in zip(tickets, approved, strict=True):
        after = history(world.admin, t)
        assert after[: len(before[t])] == before[t]
        assert_increasing(after)
        new = [s for s in steps(after[len(before[t]) :]) if s.from_status != "FinalApproved"]
        if reply.status == 200:  # the approval committed first; the delete then had nothing to reject
            assert status_of(world.admin, t) == "FinalApproved"
            assert new == [vid(cast.last, "step-2", "IntermediateApproved", "FinalApproved")]
            assert len(_executions(world, t)) == 1
        else:  # the delete rejected the ticket first; with the chain gone the approver no longer sees it
            reply.expect_error("SYS.1003", NOT_FOUND.format(uuid=t))
            assert status_of(world.admin, t) == "Rejected"
            assert len(new) == 1 and (new[0].operator_type, new[0].to_status) == ("System", "Rejected")
            assert new[0].comment == "flow collection is deleted, reject this ticket"
            assert _executions(world, t) == []


def test_flow_replacement_racing_new_tickets_keeps_every_ticket_on_a_live_flow(world: World) -> None:
    """A replacement wins (and new tickets start on the new chain) or is refused: no ticket waits on a dead flow."""
    cast = world.two_step()
    base_url = world.admin.base_url
    outcomes: Counter[int] = Counter()

    def create() -> Reply:
        client = ZStackClient(base_url, cast.submitter.client.session)
        try:
            return client.call("POST", "/tickets", body={"params": cast.ticket_params()})
        finally:
            client.close()

    for round_ in range(REPLACEMENT_ROUNDS):
        approvers = [cast.last.uuid] if round_ % 2 == 0 else [cast.first.uuid, cast.last.uuid]
        for row in world.admin.query("/tickets", f"projectUuid={cast.project['uuid']}", "status=Pending").inventories:
            ok(cast.change(cast.submitter, row["uuid"], "cancel"))  # nothing in progress: the edit may win
        *created, replaced = _all_at_once(
            [*[create] * TICKETS_PER_RACE, _replace_flows(world, cast.collection["uuid"], approvers)]
        )
        assert all(r.status == 200 for r in created), [r.body for r in created]
        outcomes[replaced.status] += 1
        if replaced.status != 200:
            assert replaced.error["code"] == "SYS.1006" and "ticket(s) in progress use it" in replaced.error["details"]
        _assert_in_progress_tickets_wait_on_live_flows(world, cast.project["uuid"])
    chain = collection(world.admin, cast.collection["uuid"])
    assert len(flow_uuids(chain)) in (1, 2)
    print(f"replacement outcomes over {REPLACEMENT_ROUNDS} rounds: {dict(outcomes)}")


def test_approve_racing_delete_archives_one_consistent_history(world: World) -> None:
    cast = world.two_step()
    tickets = [reach(cast, "Pending") for _ in range(TICKETS_PER_RACE)]
    before = {t: history(world.admin, t) for t in tickets}
    base_url = world.admin.base_url

    def delete(t: str) -> Callable[[], Reply]:
        def call() -> Reply:
            client = ZStackClient(base_url, cast.submitter.client.session)
            try:
                return client.call("DELETE", f"/tickets/{t}")
            finally:
                client.close()

        return call

    tasks = []
    for t in tickets:
        tasks += [_change(base_url, cast.first.client.session, t, "approve"), delete(t)]
    replies = _all_at_once(tasks)

    for index, t in enumerate(tickets):
        approval, deletion = replies[2 * index : 2 * index + 2]
        assert deletion.status == 200, deletion.body
        assert world.admin.query(f"/tickets/{t}").inventories == []
        archived = world.admin.query("/tickets/histories/archives", f"ticketUuid={t}", sort="+sequence").inventories
        assert [h["sequence"] for h in archived] == [h["sequence"] for h in before[t]] + (
            [archived[-1]["sequence"]] if approval.status == 200 else []
        )
        if approval.status == 200:  # approved first, then deleted: the archive keeps the approval
            assert steps(archived)[-1] == vid(cast.first, "step-1", "Pending", "IntermediateApproved")
        else:  # deleted first: the approval found no ticket
            approval.expect_error("SYS.1003", NOT_FOUND.format(uuid=t))


def test_flow_delete_racing_approvals_into_it_leaves_no_ticket_on_a_deleted_flow(world: World) -> None:
    """Approvals move tickets onto step 2 while a Permissive delete of step 2 runs: one of them goes first."""
    outcomes: Counter[int] = Counter()
    for _ in range(REPLACEMENT_ROUNDS // 2):
        project = world.project()
        submitter, first, middle = (world.person(project=project["uuid"]) for _ in range(3))
        last = world.system_admin()
        chain = world.collection(project["uuid"], [first.uuid, middle.uuid, last.uuid])
        cast = TwoStep(world, project, submitter, first, last, chain)
        tickets = [str(cast.create_ticket()["uuid"]) for _ in range(TICKETS_PER_RACE)]
        middle_flow = flow_uuids(chain)[1]

        def delete_middle(flow: str = middle_flow) -> Reply:
            client = ZStackClient(world.admin.base_url, world.admin.session)
            try:
                return client.call("DELETE", f"/tickets/flow/{flow}")
            finally:
                client.close()

        approvals = [_change(world.admin.base_url, first.client.session, t, "approve") for t in tickets]
        *approved, deleted = _all_at_once([*approvals, delete_middle])

        assert all(r.status == 200 for r in approved), [r.body for r in approved]
        outcomes[deleted.status] += 1
        if deleted.status != 200:
            assert deleted.error["code"] == "SYS.1006" and "ticket(s) in progress use it" in deleted.error["details"]
        _assert_in_progress_tickets_wait_on_live_flows(world, project["uuid"])
    print(f"flow delete outcomes: {dict(outcomes)}")
