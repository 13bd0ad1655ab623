"""Executing FinalApproved tickets against the ZStack stand-in (spec §5.7), on both databases."""

from __future__ import annotations

import pytest

from tests.executions_support import admin_world, approve_fully, vm, wait_for, wait_for_results
from tests.fake_zstack.harness import CREATE_VM, FakeZStack
from tests.world import World


@pytest.fixture
def executing(make_server, node: FakeZStack) -> World:  # type: ignore[no-untyped-def]
    server = make_server(zstack_url=node.url, zstack_account="admin", zstack_password="password")
    return admin_world(server.base_url, server.admin_password)


def test_approved_calls_run_in_order_exactly_once_and_results_are_recorded(executing: World, node: FakeZStack) -> None:
    cast = executing.two_step()
    ticket = approve_fully(cast, [vm("alpha", 2), vm("beta", 1)])
    record = wait_for_results(executing.admin, ticket["uuid"])
    creates = node.calls(api=CREATE_VM)
    assert [c["body"]["params"]["name"] for c in creates] == ["alpha", "alpha", "beta"]
    assert len({c["job_uuid"] for c in creates}) == 3
    assert len(node.resources()) == 3
    assert record["fromStatus"] == record["toStatus"] == "FinalApproved"
    assert record["operatorType"] == "System"
    assert record["operationContext"]["requestResults"] == [
        {"requestName": "create alpha", "successTimes": 2, "failureTimes": 0, "errors": []},
        {"requestName": "create beta", "successTimes": 1, "failureTimes": 0, "errors": []},
    ]
    history = executing.admin.query("/tickets/histories", f"ticketUuid={ticket['uuid']}", sort="+sequence")
    assert history.inventories[-1]["uuid"] == record["uuid"], "the results record comes last"
    executions = executing.admin.query("/tickets/executions", f"ticketUuid={ticket['uuid']}").inventories
    assert sorted(e["state"] for e in executions) == ["Succeeded"] * 3
    assert {e["jobUuid"] for e in executions} == {c["job_uuid"] for c in creates}


def test_an_api_error_is_a_final_failure_recorded_with_its_error_code(executing: World, node: FakeZStack) -> None:
    error = {"code": "SYS.1006", "description": "An operation failed", "details": "no host has enough capacity"}
    node.faults(fail_next=1, error=error)
    cast = executing.two_step()
    ticket = approve_fully(cast, [vm("gamma", 2)])
    record = wait_for_results(executing.admin, ticket["uuid"])
    (result,) = record["operationContext"]["requestResults"]
    assert (result["successTimes"], result["failureTimes"]) == (1, 1)
    assert result["errors"][0]["code"] == "SYS.1006"
    assert result["errors"][0]["details"] == "no host has enough capacity"
    assert len(node.calls(api=CREATE_VM)) == 2, "an API error is not retried"
    assert len(node.resources()) == 1


@pytest.mark.parametrize("fault", [{"drop_next": 2}, {"http_500_next": 2}])
def test_transient_failures_are_retried_without_duplicates(
    executing: World, node: FakeZStack, fault: dict[str, int]
) -> None:
    node.faults(**fault, **{fault_api(fault): CREATE_VM})
    cast = executing.two_step()
    ticket = approve_fully(cast, [vm("delta", 1)])
    record = wait_for_results(executing.admin, ticket["uuid"])
    assert record["operationContext"]["requestResults"][0]["successTimes"] == 1
    assert len(node.resources()) == 1
    executions = executing.admin.query("/tickets/executions", f"ticketUuid={ticket['uuid']}").inventories
    assert executions[0]["attempts"] >= 2


def fault_api(fault: dict[str, int]) -> str:
    return next(iter(fault)).replace("_next", "_api")


def test_session_expiry_upstream_is_renewed_transparently(executing: World, node: FakeZStack) -> None:
    cast = executing.two_step()
    first = approve_fully(cast, [vm("epsilon", 1)])
    wait_for_results(executing.admin, first["uuid"])
    node.faults(expire_sessions=True)
    second = approve_fully(cast, [vm("zeta", 1)])
    record = wait_for_results(executing.admin, second["uuid"])
    assert record["operationContext"]["requestResults"][0]["successTimes"] == 1
    logins = node.calls(api="APILogInByAccountMsg")
    assert len(logins) == 2, "one login, then one more after the sessions expired"
    assert len(node.resources()) == 2


def test_without_an_upstream_calls_wait_visibly(world: World) -> None:
    cast = world.two_step()
    ticket = approve_fully(cast, [vm("eta", 2)])
    executions = wait_for(
        lambda: world.admin.query("/tickets/executions", f"ticketUuid={ticket['uuid']}").inventories,
        what="execution rows",
    )
    assert [e["state"] for e in executions] == ["Waiting", "Waiting"]
    assert all(e["attempts"] == 0 for e in executions)
    history = world.admin.query("/tickets/histories", f"ticketUuid={ticket['uuid']}").inventories
    assert not [h for h in history if h["operationContextType"] == "RequestResults"]
    world.admin.delete(f"/tickets/{ticket['uuid']}").expect_error("SYS.1006")
    assert world.admin.delete(f"/tickets/{ticket['uuid']}", deleteMode="Enforcing").status == 200


def test_executions_are_visible_only_to_who_sees_the_ticket(world: World) -> None:
    cast = world.two_step()
    ticket = approve_fully(cast, [vm("theta", 1)])
    stranger = world.person(project=world.project()["uuid"])
    assert stranger.client.query("/tickets/executions", f"ticketUuid={ticket['uuid']}").inventories == []
    assert len(cast.submitter.client.query("/tickets/executions", f"ticketUuid={ticket['uuid']}").inventories) == 1
