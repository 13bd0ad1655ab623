"""Flow collections: create, update, state, delete, ticket-type bindings (spec §2.2.6-2.2.11, §6)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as DbSession

from zsticket.domain import errors
from zsticket.domain.approval import ADMIN_ACCOUNT_UUID
from zsticket.domain.flow_chain import order_chain, parent_links
from zsticket.domain.ticket_types import SYSTEM_DEFAULT_COLLECTION_UUID
from zsticket.services.context import CallContext, Reply
from zsticket.services.flow_rules import (
    FlowSpec,
    bind_ticket_types,
    check_chain,
    check_ticket_types_free,
    flow_specs,
    new_flow,
)
from zsticket.services.flow_store import (
    count_in_progress,
    get_collection,
    in_progress_tickets,
    reject_by_system,
)
from zsticket.services.identity_rules import get_project
from zsticket.services.ids import new_uuid, resource_uuid
from zsticket.store.tables import Flow, FlowCollection, TicketTypeCollectionRef

STATE_EVENTS = {"enable": "Enabled", "disable": "Disabled"}
ENFORCED_DELETE_COMMENT = "flow collection is deleted, reject this ticket"


def flow_inventory(row: Flow) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "name": row.name,
        "description": row.description,
        "parentFlowUuid": row.parent_flow_uuid,
        "flowContext": row.flow_context,
        "flowContextType": row.flow_context_type,
        "collectionUuid": row.collection_uuid,
        "approverUuid": row.approver_uuid,
        "valid": row.valid,
        "createDate": row.create_date,
        "lastOpDate": row.last_op_date,
    }


def collection_inventories(db: DbSession, rows: Sequence[FlowCollection]) -> list[dict[str, Any]]:
    """Inventories of a page of collections: two more queries for all flows and bindings."""
    uuids = [row.uuid for row in rows]
    flows: dict[str, list[Flow]] = defaultdict(list)
    types: dict[str, list[str]] = defaultdict(list)
    if uuids:
        for flow in db.scalars(select(Flow).where(Flow.collection_uuid.in_(uuids))):
            flows[flow.collection_uuid].append(flow)
        for ref in db.scalars(
            select(TicketTypeCollectionRef)
            .where(TicketTypeCollectionRef.ticket_flow_collection_uuid.in_(uuids))
            .order_by(TicketTypeCollectionRef.create_date)
        ):
            types[ref.ticket_flow_collection_uuid].append(ref.ticket_type_uuid)
    return [
        {
            "uuid": row.uuid,
            "name": row.name,
            "description": row.description,
            "state": row.state,
            "status": row.status,
            "isDefault": row.is_default,
            "flows": [flow_inventory(f) for f in order_chain(flows[row.uuid])],
            "ticketTypeUuids": types[row.uuid],
            "projectUuid": row.project_uuid,
            "createDate": row.create_date,
            "lastOpDate": row.last_op_date,
        }
        for row in rows
    ]


def collection_reply(ctx: CallContext, row: FlowCollection) -> Reply:
    ctx.db.flush()
    return {"inventory": collection_inventories(ctx.db, [row])[0]}


def _clear_other_defaults(ctx: CallContext, row: FlowCollection) -> None:
    ctx.db.execute(
        update(FlowCollection)
        .where(
            FlowCollection.project_uuid == row.project_uuid,
            FlowCollection.uuid != row.uuid,
            FlowCollection.is_default.is_(True),
        )
        .values(is_default=False, last_op_date=ctx.now)
    )


def _write_chain(ctx: CallContext, collection_uuid: str, specs: Sequence[FlowSpec]) -> None:
    uuids = [new_uuid() for _ in specs]
    ctx.db.add_all(
        new_flow(ctx, uuid=uuid, collection_uuid=collection_uuid, parent=parent, spec=spec)
        for (uuid, parent), spec in zip(parent_links(uuids), specs, strict=True)
    )


def _editable(ctx: CallContext, uuid: str) -> FlowCollection:
    row = get_collection(ctx.db, uuid, lock=True)
    if row.uuid == SYSTEM_DEFAULT_COLLECTION_UUID:
        raise errors.system_collection_readonly(row.uuid)
    return row


def create_iam2_tick_flow_collection(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    project = get_project(ctx.db, msg["projectUuid"], field="projectUuid")
    specs = flow_specs(msg.get("flows") or [])
    check_chain(ctx, specs, project.uuid)
    type_uuids = list(dict.fromkeys(msg.get("ticketTypeUuids", [])))
    check_ticket_types_free(ctx, type_uuids, project_uuid=project.uuid, collection_uuid=None)
    uuid = resource_uuid(ctx.db, FlowCollection, msg.get("resourceUuid"), vo="TicketFlowCollectionVO")
    row = FlowCollection(
        uuid=uuid,
        name=msg["name"],
        description=msg.get("description"),
        is_default=bool(msg.get("isDefault", False)),
        state="Enabled",
        status="Valid",
        type="iam2",
        project_uuid=project.uuid,
        create_date=ctx.now,
        last_op_date=ctx.now,
    )
    ctx.db.add(row)
    ctx.db.flush()
    if row.is_default:
        _clear_other_defaults(ctx, row)
    _write_chain(ctx, uuid, specs)
    bind_ticket_types(ctx, uuid, type_uuids)
    return collection_reply(ctx, row)


def update_iam2_ticket_flow_collection(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    """``flows`` replaces the chain ([DECISION] §2.2.11), refused while tickets are in progress on it."""
    ctx.require_admin()
    row = _editable(ctx, msg["uuid"])
    if "flows" in msg:
        specs = flow_specs(msg["flows"])
        check_chain(ctx, specs, row.project_uuid)
        busy = count_in_progress(ctx.db, collection_uuid=row.uuid)
        if busy:
            raise errors.tickets_in_progress("flow collection", row.uuid, busy)
        ctx.db.execute(delete(Flow).where(Flow.collection_uuid == row.uuid))
        _write_chain(ctx, row.uuid, specs)
        row.status = "Valid"
    if "name" in msg:
        row.name = msg["name"]
    if "description" in msg:
        row.description = msg["description"]
    if "isDefault" in msg:
        row.is_default = msg["isDefault"]
        if row.is_default:
            _clear_other_defaults(ctx, row)
    row.last_op_date = ctx.now
    return collection_reply(ctx, row)


def change_ticket_flow_collection_state(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    row = get_collection(ctx.db, msg["uuid"], lock=True)
    row.state = STATE_EVENTS[msg["stateEvent"]]
    row.last_op_date = ctx.now
    return collection_reply(ctx, row)


def delete_ticket_flow_collection(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    """Permissive refuses while tickets are in progress; Enforcing rejects them first ([DECISION] §6.7)."""
    ctx.require_admin()
    row = ctx.db.scalar(select(FlowCollection).where(FlowCollection.uuid == msg["uuid"]).with_for_update())
    if row is None:
        return {}
    if row.uuid == SYSTEM_DEFAULT_COLLECTION_UUID:
        raise errors.system_collection_readonly(row.uuid)
    tickets = in_progress_tickets(ctx.db, collection_uuids=[row.uuid])
    if tickets and msg.get("deleteMode", "Permissive") != "Enforcing":
        raise errors.tickets_in_progress("flow collection", row.uuid, len(tickets))
    reject_by_system(ctx.db, tickets, comment=ENFORCED_DELETE_COMMENT, now=ctx.now)
    ctx.db.delete(row)
    return {}


def add_ticket_types_to_ticket_flow_collection(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    row = _editable(ctx, msg["ticketFlowCollectionUuid"])
    type_uuids = list(dict.fromkeys(msg["ticketTypeUuids"]))
    check_ticket_types_free(ctx, type_uuids, project_uuid=row.project_uuid, collection_uuid=row.uuid)
    bind_ticket_types(ctx, row.uuid, type_uuids)
    return {}


def remove_ticket_types_from_ticket_flow_collection(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    row = _editable(ctx, msg["ticketFlowCollectionUuid"])
    ctx.db.execute(
        delete(TicketTypeCollectionRef).where(
            TicketTypeCollectionRef.ticket_flow_collection_uuid == row.uuid,
            TicketTypeCollectionRef.ticket_type_uuid.in_(msg["ticketTypeUuids"]),
        )
    )
    return {}


def seed_system_default_collection(db: DbSession, *, now: datetime) -> None:
    """The built-in global fallback (spec §6.3): one step, approved by admin, usable by every project."""
    if db.get(FlowCollection, SYSTEM_DEFAULT_COLLECTION_UUID) is not None:
        return
    db.add(
        FlowCollection(
            uuid=SYSTEM_DEFAULT_COLLECTION_UUID,
            name="system-default-ticket-flow-collection",
            description="built-in default: one step approved by admin",
            is_default=True,
            state="Enabled",
            status="Valid",
            type="iam2",
            project_uuid=None,
            create_date=now,
            last_op_date=now,
        )
    )
    db.flush()
    db.add(
        Flow(
            uuid="cf1b6c0e3f8e4c07a0f5d2b1e9a4c311",
            name="admin approval",
            description="approved by the platform admin",
            collection_uuid=SYSTEM_DEFAULT_COLLECTION_UUID,
            parent_flow_uuid=None,
            flow_context=f'{{"approverUuid": "{ADMIN_ACCOUNT_UUID}", "approverTitle": "SystemAdmin"}}',
            flow_context_type="IAM2TicketFlowContext",
            approver_uuid=ADMIN_ACCOUNT_UUID,
            approver_title="SystemAdmin",
            valid=True,
            create_date=now,
            last_op_date=now,
        )
    )
