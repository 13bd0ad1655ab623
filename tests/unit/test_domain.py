"""Pure domain rules, without a server."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from zsticket.domain import errors
from zsticket.domain.approval import (
    ADMIN_ACCOUNT_UUID,
    ApprovalPolicy,
    Operator,
    OperatorType,
    TicketFacts,
    check_may_change_status,
)
from zsticket.domain.executions import FinishedCall, backoff_seconds, execution_job_uuid, request_results
from zsticket.domain.flow_chain import order_chain, parent_links
from zsticket.domain.identifiers import ZSTACK_UUID
from zsticket.domain.ticket_status import TicketStatus, TicketStatusEvent, next_status
from zsticket.wire_dates import format_zstack_date, parse_query_date, parse_zstack_date

S, E = TicketStatus, TicketStatusEvent

# Spec §5.3: (status, event) -> next status; None is illegal. Approve is given with more flows to come.
TRANSITIONS = {
    (S.PENDING, E.APPROVE): S.INTERMEDIATE_APPROVED,
    (S.PENDING, E.REJECT): S.REJECTED,
    (S.PENDING, E.CANCEL): S.CANCELLED,
    (S.PENDING, E.REOPEN): None,
    (S.PENDING, E.OPEN): None,
    (S.INTERMEDIATE_APPROVED, E.APPROVE): S.INTERMEDIATE_APPROVED,
    (S.INTERMEDIATE_APPROVED, E.REJECT): S.REJECTED,
    (S.INTERMEDIATE_APPROVED, E.CANCEL): S.CANCELLED,
    (S.INTERMEDIATE_APPROVED, E.REOPEN): None,
    (S.INTERMEDIATE_APPROVED, E.OPEN): None,
    (S.REJECTED, E.REOPEN): S.PENDING,
    (S.CANCELLED, E.REOPEN): S.PENDING,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("event", list(E))
def test_transition_table_covers_every_cell(status: S, event: E) -> None:
    expected = TRANSITIONS.get((status, event))
    if expected is None:
        with pytest.raises(errors.ZStackError) as caught:
            next_status(status, event, has_next_flow=True)
        assert caught.value.code == "SYS.1006"
        assert caught.value.details == (
            f"operation denied. the ticket is in status of {status.value}, cannot do the operation[{event.value}]"
        )
    else:
        assert next_status(status, event, has_next_flow=True) is expected


@pytest.mark.parametrize("status", [S.PENDING, S.INTERMEDIATE_APPROVED])
def test_approve_at_the_last_flow_is_final(status: S) -> None:
    assert next_status(status, E.APPROVE, has_next_flow=False) is S.FINAL_APPROVED


VID = Operator(OperatorType.VIRTUAL_ID, "a" * 32, "a" * 32)
OTHER = Operator(OperatorType.VIRTUAL_ID, "b" * 32, "b" * 32)
ADMIN = Operator(OperatorType.ACCOUNT, ADMIN_ACCOUNT_UUID, ADMIN_ACCOUNT_UUID)


def _facts(submitter: str, approver: str | None) -> TicketFacts:
    return TicketFacts(uuid="t" * 32, name="t", submitter_uuid=submitter, current_approver_uuid=approver)


@pytest.mark.parametrize(
    ("operator", "event", "facts", "policy", "allowed"),
    [
        (VID, E.APPROVE, _facts(OTHER.uuid, VID.uuid), ApprovalPolicy(), True),
        (OTHER, E.APPROVE, _facts(OTHER.uuid, VID.uuid), ApprovalPolicy(), False),
        (ADMIN, E.APPROVE, _facts(OTHER.uuid, VID.uuid), ApprovalPolicy(), False),
        (ADMIN, E.APPROVE, _facts(OTHER.uuid, VID.uuid), ApprovalPolicy(admin_can_act_on_any_step=True), True),
        (VID, E.APPROVE, _facts(VID.uuid, VID.uuid), ApprovalPolicy(), False),
        (VID, E.APPROVE, _facts(VID.uuid, VID.uuid), ApprovalPolicy(allow_self_approval=True), True),
        (VID, E.REJECT, _facts(VID.uuid, VID.uuid), ApprovalPolicy(), True),
        (VID, E.CANCEL, _facts(VID.uuid, OTHER.uuid), ApprovalPolicy(), True),
        (OTHER, E.CANCEL, _facts(VID.uuid, OTHER.uuid), ApprovalPolicy(), False),
        (ADMIN, E.REOPEN, _facts(VID.uuid, OTHER.uuid), ApprovalPolicy(), False),
        (ADMIN, E.REOPEN, _facts(VID.uuid, OTHER.uuid), ApprovalPolicy(admin_can_act_on_any_step=True), True),
    ],
)
def test_actor_rules(operator: Operator, event: E, facts: TicketFacts, policy: ApprovalPolicy, allowed: bool) -> None:
    if allowed:
        check_may_change_status(operator=operator, ticket=facts, event=event, policy=policy)
    else:
        with pytest.raises(errors.ZStackError):
            check_may_change_status(operator=operator, ticket=facts, event=event, policy=policy)


@dataclass(frozen=True)
class Link:
    uuid: str
    parent_flow_uuid: str | None


def test_chain_is_ordered_from_head_through_parents() -> None:
    links = [Link("c", "b"), Link("a", None), Link("b", "a")]
    assert [link.uuid for link in order_chain(links)] == ["a", "b", "c"]
    assert parent_links(["a", "b", "c"]) == [("a", None), ("b", "a"), ("c", "b")]


def test_broken_chain_keeps_every_flow() -> None:
    links = [Link("a", None), Link("x", "missing")]
    assert [link.uuid for link in order_chain(links)] == ["a", "x"]


def test_execution_job_uuid_is_deterministic_and_a_zstack_uuid() -> None:
    first = execution_job_uuid(ticket_uuid="t", request_index=0, execution_number=1, revision=0)
    assert first == execution_job_uuid(ticket_uuid="t", request_index=0, execution_number=1, revision=0)
    assert first != execution_job_uuid(ticket_uuid="t", request_index=0, execution_number=2, revision=0)
    assert first != execution_job_uuid(ticket_uuid="t", request_index=0, execution_number=1, revision=1)
    assert ZSTACK_UUID.match(first)


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff_seconds(n) for n in range(1, 12)]
    assert delays == sorted(delays) and delays[0] == 0.5 and delays[-1] == 60.0


def test_request_results_aggregate_per_request() -> None:
    error = {"code": "SYS.1006", "description": "An operation failed", "details": "boom"}
    calls = [
        FinishedCall(0, "create vm", True, None),
        FinishedCall(0, "create vm", False, error),
        FinishedCall(1, "other", True, None),
    ]
    assert request_results(calls, 2, ["create vm", "other"]) == [
        {"requestName": "create vm", "successTimes": 1, "failureTimes": 1, "errors": [error]},
        {"requestName": "other", "successTimes": 1, "failureTimes": 0, "errors": []},
    ]


@pytest.mark.parametrize("hour", range(24))
def test_zstack_dates_round_trip_for_every_hour(hour: int) -> None:
    moment = datetime(2026, 12, 4, hour, 2, 3)
    text = format_zstack_date(moment)
    assert text.endswith((" AM", " PM")) and "," in text
    assert parse_zstack_date(text) == moment


def test_query_dates_accept_java_timestamp_and_iso() -> None:
    assert parse_query_date("2026-12-04 13:02:03") == parse_query_date("2026-12-04T13:02:03")


def test_domain_imports_only_the_standard_library() -> None:
    domain = Path(__file__).resolve().parents[2] / "src" / "zsticket" / "domain"
    for module in domain.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in {"__future__", "zsticket", *__import__("sys").stdlib_module_names}, (module, name)
                if top == "zsticket":
                    assert name.startswith("zsticket.domain"), (module, name)
