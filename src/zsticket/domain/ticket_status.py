"""Ticket statuses, events and the transition table (spec §4, §5.3)."""

from __future__ import annotations

from enum import StrEnum

from zsticket.domain import errors


class TicketStatus(StrEnum):
    PENDING = "Pending"
    CANCELLED = "Cancelled"
    INTERMEDIATE_APPROVED = "IntermediateApproved"
    FINAL_APPROVED = "FinalApproved"
    REJECTED = "Rejected"


class TicketStatusEvent(StrEnum):
    OPEN = "open"
    APPROVE = "approve"
    CANCEL = "cancel"
    REJECT = "reject"
    REOPEN = "reopen"


IN_PROGRESS = frozenset({TicketStatus.PENDING, TicketStatus.INTERMEDIATE_APPROVED})
EDITABLE = frozenset({TicketStatus.CANCELLED, TicketStatus.REJECTED})

# (status, event) -> status; approve resolves to IntermediateApproved or FinalApproved below.
_TRANSITIONS: dict[tuple[TicketStatus, TicketStatusEvent], TicketStatus] = {
    (TicketStatus.PENDING, TicketStatusEvent.APPROVE): TicketStatus.INTERMEDIATE_APPROVED,
    (TicketStatus.PENDING, TicketStatusEvent.REJECT): TicketStatus.REJECTED,
    (TicketStatus.PENDING, TicketStatusEvent.CANCEL): TicketStatus.CANCELLED,
    (TicketStatus.INTERMEDIATE_APPROVED, TicketStatusEvent.APPROVE): TicketStatus.INTERMEDIATE_APPROVED,
    (TicketStatus.INTERMEDIATE_APPROVED, TicketStatusEvent.REJECT): TicketStatus.REJECTED,
    (TicketStatus.INTERMEDIATE_APPROVED, TicketStatusEvent.CANCEL): TicketStatus.CANCELLED,
    (TicketStatus.REJECTED, TicketStatusEvent.REOPEN): TicketStatus.PENDING,
    (TicketStatus.CANCELLED, TicketStatusEvent.REOPEN): TicketStatus.PENDING,
}


def is_allowed(status: TicketStatus, event: TicketStatusEvent) -> bool:
    return (status, event) in _TRANSITIONS


def next_status(status: TicketStatus, event: TicketStatusEvent, *, has_next_flow: bool) -> TicketStatus:
    """The status after ``event``; an approve at the last flow is final.

    Raises the spec's ``TicketStatus.java:48`` error for an illegal pair. ``open`` is creation-only
    ([DECISION] §5.3), so it is illegal for every existing ticket.
    """
    target = _TRANSITIONS.get((status, event))
    if target is None:
        raise errors.illegal_transition(status.value, event.value)
    if event is TicketStatusEvent.APPROVE and not has_next_flow:
        return TicketStatus.FINAL_APPROVED
    return target
