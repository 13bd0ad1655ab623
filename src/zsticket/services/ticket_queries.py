"""Query definitions of the ticket inventories and who may see what (spec §2.2.5, §5.4).

Visibility is a SQL clause added to the query engine's single statement:
admin sees everything; a virtual ID sees tickets it submitted, tickets on collections where it is
an approver, and, as project admin, every ticket of its project.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session as DbSession

from zsticket.domain.approval import Operator
from zsticket.services.executions import execution_inventory
from zsticket.services.flow_collections import collection_inventories, flow_inventory
from zsticket.services.identity_rules import PROJECT_ADMIN_ATTRIBUTE
from zsticket.services.ticket_records import history_inventory, ticket_inventory
from zsticket.store.query_engine import Clause, FieldType, QueryDef, QueryField
from zsticket.store.tables import (
    ArchiveTicket,
    ArchiveTicketStatusHistory,
    Flow,
    FlowCollection,
    ProjectMember,
    Ticket,
    TicketExecution,
    TicketStatusHistory,
    TicketType,
    TicketTypeCollectionRef,
    VirtualIDAttribute,
)

DATE = FieldType.DATE


def _dated(entity: Any) -> dict[str, QueryField]:
    return {
        "createDate": QueryField(entity.create_date, DATE),
        "lastOpDate": QueryField(entity.last_op_date, DATE),
    }


def _admin_projects(db: DbSession, vid_uuid: str) -> list[str]:
    return [
        v
        for v in db.scalars(
            select(VirtualIDAttribute.value).where(
                VirtualIDAttribute.virtual_id_uuid == vid_uuid, VirtualIDAttribute.name == PROJECT_ADMIN_ATTRIBUTE
            )
        )
        if v
    ]


def _approved_collections(db: DbSession, vid_uuid: str) -> list[str]:
    return list(db.scalars(select(Flow.collection_uuid).where(Flow.approver_uuid == vid_uuid).distinct()))


def ticket_visibility(operator: Operator, db: DbSession) -> Clause | None:
    """The caller's collections and admin projects are looked up first, so the filter is plain
    ``IN`` lists, each over its own (column, status, createDate) index, that the planner ORs together."""
    if operator.is_admin:
        return None
    terms = [Ticket.virtual_id_uuid == operator.uuid]
    if collections := _approved_collections(db, operator.uuid):
        terms.append(Ticket.flow_collection_uuid.in_(collections))
    if projects := _admin_projects(db, operator.uuid):
        terms.append(Ticket.project_uuid.in_(projects))
    return or_(*terms)


def history_visibility(operator: Operator, db: DbSession) -> Clause | None:
    clause = ticket_visibility(operator, db)
    if clause is None:
        return None
    return TicketStatusHistory.ticket_uuid.in_(select(Ticket.uuid).where(clause))


def archive_visibility(operator: Operator, db: DbSession) -> Clause | None:
    if operator.is_admin:
        return None
    return or_(
        ArchiveTicket.virtual_id_uuid == operator.uuid,
        ArchiveTicket.project_uuid.in_(_admin_projects(db, operator.uuid)),
    )


def archive_history_visibility(operator: Operator, db: DbSession) -> Clause | None:
    clause = archive_visibility(operator, db)
    if clause is None:
        return None
    return ArchiveTicketStatusHistory.ticket_uuid.in_(select(ArchiveTicket.ticket_uuid).where(clause))


def collection_visibility(operator: Operator, db: DbSession) -> Clause | None:
    """Collections of the caller's projects, collections it approves on, and the system default."""
    if operator.is_admin:
        return None
    member_of = select(ProjectMember.project_uuid).where(ProjectMember.virtual_id_uuid == operator.uuid)
    return or_(
        FlowCollection.project_uuid.in_(member_of),
        FlowCollection.project_uuid.is_(None),
        FlowCollection.uuid.in_(_approved_collections(db, operator.uuid)),
    )


def flow_visibility(operator: Operator, db: DbSession) -> Clause | None:
    clause = collection_visibility(operator, db)
    if clause is None:
        return None
    return Flow.collection_uuid.in_(select(FlowCollection.uuid).where(clause))


def everyone(_operator: Operator, _db: DbSession) -> Clause | None:
    return None


def _rows_to(builder: Any) -> Any:
    def build(_db: Any, rows: Sequence[Any]) -> list[dict[str, Any]]:
        return [builder(row) for row in rows]

    return build


_TICKET_FIELDS = {
    "uuid": QueryField(Ticket.uuid),
    "name": QueryField(Ticket.name),
    "description": QueryField(Ticket.description),
    "status": QueryField(Ticket.status),
    "accountSystemType": QueryField(Ticket.account_system_type),
    "currentFlowUuid": QueryField(Ticket.current_flow_uuid),
    "flowCollectionUuid": QueryField(Ticket.flow_collection_uuid),
    "ticketTypeUuid": QueryField(Ticket.ticket_type_uuid),
    "projectUuid": QueryField(Ticket.project_uuid),
    "virtualIDUuid": QueryField(Ticket.virtual_id_uuid),
    **_dated(Ticket),
}

TICKET_INVENTORY_FIELDS = frozenset(
    {
        "uuid",
        "name",
        "description",
        "status",
        "request",
        "accountSystemType",
        "accountSystemContext",
        "currentFlowUuid",
        "flowCollectionUuid",
        "ticketTypeUuid",
        "createDate",
        "lastOpDate",
    }
)

HISTORY_INVENTORY_FIELDS = frozenset(
    {
        "uuid",
        "sequence",
        "ticketUuid",
        "fromStatus",
        "toStatus",
        "comment",
        "operationContextType",
        "operationContext",
        "operatorType",
        "operatorUuid",
        "flowName",
        "createDate",
        "lastOpDate",
    }
)


def _history_fields(entity: Any) -> dict[str, QueryField]:
    return {
        "uuid": QueryField(entity.uuid),
        "sequence": QueryField(entity.sequence, FieldType.INT),
        "ticketUuid": QueryField(entity.ticket_uuid),
        "fromStatus": QueryField(entity.from_status),
        "toStatus": QueryField(entity.to_status),
        "comment": QueryField(entity.comment),
        "operationContextType": QueryField(entity.operation_context_type),
        "operatorType": QueryField(entity.operator_type),
        "operatorUuid": QueryField(entity.operator_uuid),
        "flowName": QueryField(entity.flow_name),
        **_dated(entity),
    }


QUERY_TICKET = QueryDef(
    inventory_class="org.zstack.ticket.entity.TicketInventory",
    entity=Ticket,
    fields=_TICKET_FIELDS,
    default_order=Ticket.uuid,
    to_inventories=_rows_to(ticket_inventory),
    inventory_fields=TICKET_INVENTORY_FIELDS,
)

QUERY_TICKET_HISTORY = QueryDef(
    inventory_class="org.zstack.ticket.entity.TicketStatusHistoryInventory",
    entity=TicketStatusHistory,
    fields=_history_fields(TicketStatusHistory),
    default_order=TicketStatusHistory.sequence,
    to_inventories=_rows_to(history_inventory),
    inventory_fields=HISTORY_INVENTORY_FIELDS,
)

QUERY_ARCHIVE_TICKET = QueryDef(
    inventory_class="org.zstack.ticket.entity.ArchiveTicketInventory",
    entity=ArchiveTicket,
    fields={
        **{k: QueryField(getattr(ArchiveTicket, v.column.key)) for k, v in _TICKET_FIELDS.items()},
        "createDate": QueryField(ArchiveTicket.create_date, DATE),
        "lastOpDate": QueryField(ArchiveTicket.last_op_date, DATE),
        "ticketUuid": QueryField(ArchiveTicket.ticket_uuid),
        "accountUuid": QueryField(ArchiveTicket.account_uuid),
    },
    default_order=ArchiveTicket.uuid,
    to_inventories=_rows_to(ticket_inventory),
    inventory_fields=TICKET_INVENTORY_FIELDS | {"ticketUuid", "accountUuid"},
)

QUERY_ARCHIVE_TICKET_HISTORY = QueryDef(
    inventory_class="org.zstack.ticket.entity.ArchiveTicketStatusHistoryInventory",
    entity=ArchiveTicketStatusHistory,
    fields={
        **_history_fields(ArchiveTicketStatusHistory),
        "historyUuid": QueryField(ArchiveTicketStatusHistory.history_uuid),
        "accountUuid": QueryField(ArchiveTicketStatusHistory.account_uuid),
    },
    default_order=ArchiveTicketStatusHistory.sequence,
    to_inventories=_rows_to(history_inventory),
    inventory_fields=HISTORY_INVENTORY_FIELDS | {"historyUuid", "accountUuid"},
)


def _bound_to_type(test: Any) -> Clause:
    return exists().where(
        TicketTypeCollectionRef.ticket_flow_collection_uuid == FlowCollection.uuid,
        test(TicketTypeCollectionRef.ticket_type_uuid),
    )


def _has_flow_approver(test: Any) -> Clause:
    return exists().where(Flow.collection_uuid == FlowCollection.uuid, test(Flow.approver_uuid))


QUERY_TICKET_FLOW_COLLECTION = QueryDef(
    inventory_class="org.zstack.ticket.iam2.entity.IAM2TicketFlowCollectionInventory",
    entity=FlowCollection,
    fields={
        "uuid": QueryField(FlowCollection.uuid),
        "name": QueryField(FlowCollection.name),
        "description": QueryField(FlowCollection.description),
        "state": QueryField(FlowCollection.state),
        "status": QueryField(FlowCollection.status),
        "isDefault": QueryField(FlowCollection.is_default, FieldType.BOOL),
        "projectUuid": QueryField(FlowCollection.project_uuid),
        "ticketTypeUuids": QueryField(None, membership=_bound_to_type),
        "flows.approverUuid": QueryField(None, membership=_has_flow_approver),
        **_dated(FlowCollection),
    },
    default_order=FlowCollection.uuid,
    to_inventories=collection_inventories,
    inventory_fields=frozenset(
        {
            "uuid",
            "name",
            "description",
            "state",
            "status",
            "isDefault",
            "flows",
            "ticketTypeUuids",
            "projectUuid",
            "createDate",
            "lastOpDate",
        }
    ),
)

QUERY_TICKET_FLOW = QueryDef(
    inventory_class="org.zstack.ticket.iam2.entity.IAM2TicketFlowInventory",
    entity=Flow,
    fields={
        "uuid": QueryField(Flow.uuid),
        "name": QueryField(Flow.name),
        "description": QueryField(Flow.description),
        "parentFlowUuid": QueryField(Flow.parent_flow_uuid),
        "flowContextType": QueryField(Flow.flow_context_type),
        "collectionUuid": QueryField(Flow.collection_uuid),
        "approverUuid": QueryField(Flow.approver_uuid),
        "valid": QueryField(Flow.valid, FieldType.BOOL),
        **_dated(Flow),
    },
    default_order=Flow.uuid,
    to_inventories=_rows_to(flow_inventory),
    inventory_fields=frozenset(
        {
            "uuid",
            "name",
            "description",
            "parentFlowUuid",
            "flowContext",
            "flowContextType",
            "collectionUuid",
            "approverUuid",
            "valid",
            "createDate",
            "lastOpDate",
        }
    ),
)


def ticket_type_inventory(row: TicketType) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "name": row.name,
        "description": row.description,
        "type": row.type,
        "requests": row.requests,
        "adminOnly": row.admin_only,
        "createDate": row.create_date,
        "lastOpDate": row.last_op_date,
    }


QUERY_TICKET_TYPE = QueryDef(
    inventory_class="org.zstack.ticket.entity.TicketTypeInventory",
    entity=TicketType,
    fields={
        "uuid": QueryField(TicketType.uuid),
        "name": QueryField(TicketType.name),
        "description": QueryField(TicketType.description),
        "type": QueryField(TicketType.type),
        "adminOnly": QueryField(TicketType.admin_only, FieldType.BOOL),
        **_dated(TicketType),
    },
    default_order=TicketType.uuid,
    to_inventories=_rows_to(ticket_type_inventory),
    inventory_fields=frozenset(
        {"uuid", "name", "description", "type", "requests", "adminOnly", "createDate", "lastOpDate"}
    ),
)


def execution_visibility(operator: Operator, db: DbSession) -> Clause | None:
    clause = ticket_visibility(operator, db)
    if clause is None:
        return None
    return TicketExecution.ticket_uuid.in_(select(Ticket.uuid).where(clause))


QUERY_TICKET_EXECUTION = QueryDef(
    inventory_class="org.zstack.ticket.entity.TicketExecutionInventory",
    entity=TicketExecution,
    fields={
        "uuid": QueryField(TicketExecution.uuid),
        "ticketUuid": QueryField(TicketExecution.ticket_uuid),
        "revision": QueryField(TicketExecution.revision, FieldType.INT),
        "requestIndex": QueryField(TicketExecution.request_index, FieldType.INT),
        "executionNumber": QueryField(TicketExecution.execution_number, FieldType.INT),
        "requestName": QueryField(TicketExecution.request_name),
        "apiName": QueryField(TicketExecution.api_name),
        "jobUuid": QueryField(TicketExecution.job_uuid),
        "state": QueryField(TicketExecution.state),
        "attempts": QueryField(TicketExecution.attempts, FieldType.INT),
        "nextAttemptDate": QueryField(TicketExecution.next_attempt_date, DATE),
        "sentDate": QueryField(TicketExecution.sent_date, DATE),
        "finishedDate": QueryField(TicketExecution.finished_date, DATE),
        **_dated(TicketExecution),
    },
    default_order=TicketExecution.create_date,
    to_inventories=_rows_to(execution_inventory),
    inventory_fields=frozenset(
        {
            "uuid",
            "ticketUuid",
            "revision",
            "requestIndex",
            "executionNumber",
            "requestName",
            "apiName",
            "jobUuid",
            "state",
            "attempts",
            "nextAttemptDate",
            "lastError",
            "result",
            "error",
            "sentDate",
            "finishedDate",
            "createDate",
            "lastOpDate",
        }
    ),
)
