"""Ticket rows as inventories, history records and archives (spec §3.1, §3.3-3.5, §5.9, §5.11)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from zsticket.domain.approval import Operator
from zsticket.services.ids import new_uuid
from zsticket.store.tables import (
    ArchiveTicket,
    ArchiveTicketStatusHistory,
    Ticket,
    TicketStatusHistory,
)

STATUS_CHANGED = "StatusChanged"
REQUEST_UPDATED = "RequestUpdated"


def ticket_inventory(row: Ticket | ArchiveTicket) -> dict[str, Any]:
    inventory: dict[str, Any] = {
        "uuid": row.uuid,
        "name": row.name,
        "description": row.description,
        "status": row.status,
        "request": json.loads(row.requests),
        "accountSystemType": row.account_system_type,
        "accountSystemContext": json.loads(row.account_system_context),
        "currentFlowUuid": row.current_flow_uuid,
        "flowCollectionUuid": row.flow_collection_uuid,
        "ticketTypeUuid": row.ticket_type_uuid,
        "createDate": row.create_date,
        "lastOpDate": row.last_op_date,
    }
    if isinstance(row, ArchiveTicket):
        inventory["ticketUuid"] = row.ticket_uuid
        inventory["accountUuid"] = row.account_uuid
    return inventory


def history_inventory(row: TicketStatusHistory | ArchiveTicketStatusHistory) -> dict[str, Any]:
    inventory: dict[str, Any] = {
        "uuid": row.uuid,
        "sequence": row.sequence,
        "ticketUuid": row.ticket_uuid,
        "fromStatus": row.from_status,
        "toStatus": row.to_status,
        "comment": row.comment,
        "operationContextType": row.operation_context_type,
        "operationContext": None if row.operation_context is None else json.loads(row.operation_context),
        "operatorType": row.operator_type,
        "operatorUuid": row.operator_uuid,
        "flowName": row.flow_name,
        "createDate": row.create_date,
        "lastOpDate": row.last_op_date,
    }
    if isinstance(row, ArchiveTicketStatusHistory):
        inventory["historyUuid"] = row.history_uuid
        inventory["accountUuid"] = row.account_uuid
    return inventory


def record_history(
    db: DbSession,
    *,
    ticket: Ticket,
    from_status: str,
    operator: Operator,
    now: datetime,
    comment: str | None = None,
    flow_name: str | None = None,
    context_type: str = STATUS_CHANGED,
    context: dict[str, Any] | None = None,
) -> TicketStatusHistory:
    """Append one history row; ``sequence`` comes from the database, globally increasing."""
    row = TicketStatusHistory(
        uuid=new_uuid(),
        ticket_uuid=ticket.uuid,
        from_status=from_status,
        to_status=ticket.status,
        comment=comment,
        operator_uuid=operator.uuid,
        operator_type=operator.type.value,
        operation_context=None if context is None else json.dumps(context),
        operation_context_type=context_type,
        flow_name=flow_name,
        create_date=now,
        last_op_date=now,
    )
    db.add(row)
    return row


def archive_ticket(db: DbSession, ticket: Ticket) -> None:
    """Copy the ticket and its history into the archive tables, then delete the live rows."""
    db.flush()
    db.add(
        ArchiveTicket(
            uuid=new_uuid(),
            ticket_uuid=ticket.uuid,
            account_uuid=ticket.account_uuid,
            name=ticket.name,
            description=ticket.description,
            status=ticket.status,
            requests=ticket.requests,
            account_system_type=ticket.account_system_type,
            account_system_context=ticket.account_system_context,
            project_uuid=ticket.project_uuid,
            virtual_id_uuid=ticket.virtual_id_uuid,
            flow_collection_uuid=ticket.flow_collection_uuid,
            current_flow_uuid=ticket.current_flow_uuid,
            ticket_type_uuid=ticket.ticket_type_uuid,
            create_date=ticket.create_date,
            last_op_date=ticket.last_op_date,
        )
    )
    histories = db.scalars(
        select(TicketStatusHistory)
        .where(TicketStatusHistory.ticket_uuid == ticket.uuid)
        .order_by(TicketStatusHistory.sequence)
    ).all()
    db.add_all(
        ArchiveTicketStatusHistory(
            uuid=new_uuid(),
            sequence=h.sequence,
            history_uuid=h.uuid,
            ticket_uuid=h.ticket_uuid,
            account_uuid=ticket.account_uuid,
            from_status=h.from_status,
            to_status=h.to_status,
            comment=h.comment,
            operator_uuid=h.operator_uuid,
            operator_type=h.operator_type,
            operation_context=h.operation_context,
            operation_context_type=h.operation_context_type,
            flow_name=h.flow_name,
            create_date=h.create_date,
            last_op_date=h.last_op_date,
        )
        for h in histories
    )
    db.execute(delete(TicketStatusHistory).where(TicketStatusHistory.ticket_uuid == ticket.uuid))
    db.delete(ticket)
    db.flush()
