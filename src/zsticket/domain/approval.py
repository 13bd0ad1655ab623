"""Who may do what to a ticket (spec §5.4), as pure decisions over plain facts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from zsticket.domain import errors
from zsticket.domain.ticket_status import TicketStatusEvent

ADMIN_ACCOUNT_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"


class OperatorType(StrEnum):
    """The ``operatorType`` literals of history records ([DECISION] §3.3)."""

    ACCOUNT = "AccountVO"
    VIRTUAL_ID = "IAM2VirtualIDVO"
    SYSTEM = "System"


@dataclass(frozen=True)
class Operator:
    """The principal behind an API call: the admin account or a virtual ID."""

    type: OperatorType
    uuid: str
    account_uuid: str
    project_uuid: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.type is OperatorType.ACCOUNT and self.uuid == ADMIN_ACCOUNT_UUID


SYSTEM_OPERATOR = Operator(type=OperatorType.SYSTEM, uuid=ADMIN_ACCOUNT_UUID, account_uuid=ADMIN_ACCOUNT_UUID)


@dataclass(frozen=True)
class ApprovalPolicy:
    """The configurable [DECISION]s of §5.4."""

    admin_can_act_on_any_step: bool = False
    allow_self_approval: bool = False


@dataclass(frozen=True)
class TicketFacts:
    uuid: str
    name: str | None
    submitter_uuid: str
    current_approver_uuid: str | None


OWNER_EVENTS = frozenset({TicketStatusEvent.CANCEL, TicketStatusEvent.REOPEN})
APPROVER_EVENTS = frozenset({TicketStatusEvent.APPROVE, TicketStatusEvent.REJECT})


def check_may_change_status(
    *, operator: Operator, ticket: TicketFacts, event: TicketStatusEvent, policy: ApprovalPolicy
) -> None:
    """Raise unless ``operator`` may send ``event`` to ``ticket``.

    Approve/reject: only the current flow's approver (the admin only with the override flag).
    A submitter who is also the step's named approver may approve only if self-approval is
    allowed; rejecting one's own ticket is always allowed for the named approver.
    Cancel/reopen: only the submitter (the admin with the override flag).
    """
    if event in APPROVER_EVENTS:
        approver = ticket.current_approver_uuid
        admin_override = operator.is_admin and policy.admin_can_act_on_any_step
        if approver is None or (operator.uuid != approver and not admin_override):
            raise errors.operator_not_approver(approver or "")
        if (
            event is TicketStatusEvent.APPROVE
            and operator.uuid == ticket.submitter_uuid
            and not policy.allow_self_approval
        ):
            raise errors.self_approval(operator.uuid)
        return
    if event in OWNER_EVENTS:
        check_is_owner(operator=operator, ticket=ticket, policy=policy)


def check_is_owner(*, operator: Operator, ticket: TicketFacts, policy: ApprovalPolicy) -> None:
    if operator.uuid == ticket.submitter_uuid:
        return
    if operator.is_admin and policy.admin_can_act_on_any_step:
        return
    raise errors.not_owner(operator.uuid, ticket.uuid, ticket.name)
