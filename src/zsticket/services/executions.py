"""The execution outbox: written when a ticket is FinalApproved, claimed and finished by workers.

Each function runs inside a transaction its caller opened; none talks to the upstream.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session as DbSession

from zsticket.domain.approval import SYSTEM_OPERATOR
from zsticket.domain.executions import (
    REQUEST_RESULTS,
    UNFINISHED,
    ExecutionState,
    FinishedCall,
    execution_job_uuid,
    request_results,
)
from zsticket.services.ids import new_uuid
from zsticket.services.ticket_records import record_history
from zsticket.store.tables import Ticket, TicketExecution

NOTIFY_CHANNEL = "zsticket_executions"


def enqueue(db: DbSession, ticket: Ticket, *, now: datetime) -> int:
    """One row per (request, execution number), in the transaction that made the ticket FinalApproved."""
    requests = json.loads(ticket.requests)
    count = 0
    for index, request in enumerate(requests):
        for number in range(1, int(request.get("executeTimes", 1)) + 1):
            db.add(
                TicketExecution(
                    uuid=new_uuid(),
                    ticket_uuid=ticket.uuid,
                    revision=ticket.revision,
                    request_index=index,
                    execution_number=number,
                    request_name=request.get("requestName"),
                    api_name=request["apiName"],
                    api_body=json.dumps(request.get("apiBody") or {}),
                    project_uuid=ticket.project_uuid,
                    job_uuid=execution_job_uuid(
                        ticket_uuid=ticket.uuid, request_index=index, execution_number=number, revision=ticket.revision
                    ),
                    state=ExecutionState.WAITING.value,
                    attempts=0,
                    next_attempt_date=now,
                    create_date=now,
                    last_op_date=now,
                )
            )
            count += 1
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return count


def count_unfinished(db: DbSession, ticket_uuid: str) -> tuple[int, int]:
    """(unfinished calls, of which already sent) of a ticket: what deleting it would abandon."""
    pending, sent = db.execute(
        select(func.count(), func.count().filter(TicketExecution.attempts > 0)).where(
            TicketExecution.ticket_uuid == ticket_uuid, TicketExecution.state.in_(UNFINISHED)
        )
    ).one()
    return int(pending), int(sent)


@dataclass(frozen=True)
class Call:
    """A claimed execution row, detached from its session."""

    uuid: str
    ticket_uuid: str
    revision: int
    request_index: int
    execution_number: int
    api_name: str
    api_body: dict[str, Any]
    project_uuid: str
    job_uuid: str
    state: str
    attempts: int


def _call(row: TicketExecution) -> Call:
    return Call(
        uuid=row.uuid,
        ticket_uuid=row.ticket_uuid,
        revision=row.revision,
        request_index=row.request_index,
        execution_number=row.execution_number,
        api_name=row.api_name,
        api_body=json.loads(row.api_body),
        project_uuid=row.project_uuid,
        job_uuid=row.job_uuid,
        state=row.state,
        attempts=row.attempts,
    )


def claim_ticket(db: DbSession, *, owner: str, now: datetime, lease_seconds: int) -> list[Call]:
    """Lease every unfinished call of one ticket whose next call is due, in request order.

    The ticket row is the lock: ``FOR UPDATE SKIP LOCKED`` lets workers of several processes on
    PostgreSQL pass each other by, and on SQLite the write transaction (``BEGIN IMMEDIATE``)
    serialises claims. A lease that is still running is never taken, so one ticket's calls run in
    one worker, in order.
    """
    free = or_(TicketExecution.lease_expired_date.is_(None), TicketExecution.lease_expired_date < now)
    candidates = db.execute(
        select(TicketExecution.ticket_uuid, TicketExecution.revision)
        .where(TicketExecution.state.in_(UNFINISHED), TicketExecution.next_attempt_date <= now, free)
        .order_by(TicketExecution.next_attempt_date, TicketExecution.create_date)
        .limit(20)
    ).all()
    for ticket_uuid, revision in dict.fromkeys(candidates):
        locked = db.scalar(select(Ticket.uuid).where(Ticket.uuid == ticket_uuid).with_for_update(skip_locked=True))
        if locked is None:
            continue
        rows = list(
            db.scalars(
                select(TicketExecution)
                .where(
                    TicketExecution.ticket_uuid == ticket_uuid,
                    TicketExecution.revision == revision,
                    TicketExecution.state.in_(UNFINISHED),
                )
                .order_by(TicketExecution.request_index, TicketExecution.execution_number)
            )
        )
        if not rows or any(r.lease_expired_date is not None and r.lease_expired_date >= now for r in rows):
            continue
        lease = now + timedelta(seconds=lease_seconds)
        for row in rows:
            row.lease_owner = owner
            row.lease_expired_date = lease
        return [_call(row) for row in rows]
    return []


def _owned(db: DbSession, call_uuid: str, owner: str) -> TicketExecution | None:
    row = db.scalar(select(TicketExecution).where(TicketExecution.uuid == call_uuid).with_for_update())
    if row is None or row.lease_owner != owner:
        return None
    return row


def mark_sent(db: DbSession, call_uuid: str, *, owner: str, now: datetime, lease_seconds: int) -> bool:
    """Record that the call is about to be sent: after a crash it is looked up, not re-sent blindly."""
    row = _owned(db, call_uuid, owner)
    if row is None:
        return False
    row.state = ExecutionState.RUNNING.value
    row.attempts += 1
    row.sent_date = row.sent_date or now
    row.lease_expired_date = now + timedelta(seconds=lease_seconds)
    row.last_op_date = now
    return True


def extend_lease(db: DbSession, call_uuid: str, *, owner: str, now: datetime, lease_seconds: int) -> bool:
    """Keep the lease of a ticket whose call is still running upstream; False if it was lost."""
    row = _owned(db, call_uuid, owner)
    if row is None:
        return False
    row.lease_expired_date = now + timedelta(seconds=lease_seconds)
    return True


def renew_job_uuid(db: DbSession, call_uuid: str, *, owner: str, now: datetime) -> str | None:
    """A new job id after the node refused our session: the refused id is known not executed."""
    row = _owned(db, call_uuid, owner)
    if row is None:
        return None
    row.job_uuid = execution_job_uuid(
        ticket_uuid=row.ticket_uuid,
        request_index=row.request_index,
        execution_number=row.execution_number,
        revision=row.revision,
        salt=row.attempts,
    )
    row.state = ExecutionState.WAITING.value
    row.last_op_date = now
    return row.job_uuid


def defer(db: DbSession, call_uuid: str, *, owner: str, now: datetime, delay: float, reason: str) -> None:
    """Retry later; the state stays as it is (a Running call is looked up before any resend)."""
    row = _owned(db, call_uuid, owner)
    if row is None:
        return
    row.last_error = reason[:4000]
    siblings = db.scalars(
        select(TicketExecution).where(
            TicketExecution.ticket_uuid == row.ticket_uuid,
            TicketExecution.revision == row.revision,
            TicketExecution.state.in_(UNFINISHED),
        )
    )
    for sibling in siblings:  # the later calls of the ticket wait behind this one
        sibling.next_attempt_date = now + timedelta(seconds=delay)
        sibling.lease_owner = None
        sibling.lease_expired_date = None
        sibling.last_op_date = now


def finish(
    db: DbSession,
    call_uuid: str,
    *,
    owner: str,
    now: datetime,
    succeeded: bool,
    result: dict[str, Any] | None,
    error: dict[str, Any] | None,
) -> bool:
    """Record one call's outcome; the last call of a ticket also writes its requestResults history."""
    row = _owned(db, call_uuid, owner)
    if row is None:
        return False
    row.state = (ExecutionState.SUCCEEDED if succeeded else ExecutionState.FAILED).value
    row.result = None if result is None else json.dumps(result)
    row.error = None if error is None else json.dumps(error)
    row.finished_date = now
    row.lease_owner = None
    row.lease_expired_date = None
    row.last_op_date = now
    db.flush()
    _record_results_if_done(db, row.ticket_uuid, row.revision, now=now)
    return True


def _record_results_if_done(db: DbSession, ticket_uuid: str, revision: int, *, now: datetime) -> None:
    rows: Sequence[TicketExecution] = db.scalars(
        select(TicketExecution)
        .where(TicketExecution.ticket_uuid == ticket_uuid, TicketExecution.revision == revision)
        .order_by(TicketExecution.request_index, TicketExecution.execution_number)
    ).all()
    if any(r.state in UNFINISHED for r in rows):
        return
    ticket = db.get(Ticket, ticket_uuid)
    if ticket is None:
        return
    requests = json.loads(ticket.requests)
    names = [r.get("requestName") or r.get("apiName") for r in requests]
    calls = [
        FinishedCall(
            request_index=r.request_index,
            request_name=r.request_name,
            succeeded=r.state == ExecutionState.SUCCEEDED.value,
            error=None if r.error is None else json.loads(r.error),
        )
        for r in rows
    ]
    record_history(
        db,
        ticket=ticket,
        from_status=ticket.status,
        operator=SYSTEM_OPERATOR,
        now=now,
        context_type=REQUEST_RESULTS,
        context={"requestResults": request_results(calls, len(requests), names)},
    )


def execution_inventory(row: TicketExecution) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "ticketUuid": row.ticket_uuid,
        "revision": row.revision,
        "requestIndex": row.request_index,
        "executionNumber": row.execution_number,
        "requestName": row.request_name,
        "apiName": row.api_name,
        "jobUuid": row.job_uuid,
        "state": row.state,
        "attempts": row.attempts,
        "nextAttemptDate": row.next_attempt_date,
        "lastError": row.last_error,
        "result": None if row.result is None else json.loads(row.result),
        "error": None if row.error is None else json.loads(row.error),
        "sentDate": row.sent_date,
        "finishedDate": row.finished_date,
        "createDate": row.create_date,
        "lastOpDate": row.last_op_date,
    }
