"""Single flows of a collection: add, update, delete (spec §2.2.12-2.2.14, §6.1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from zsticket.domain import errors
from zsticket.domain.ticket_types import SYSTEM_DEFAULT_COLLECTION_UUID
from zsticket.services.context import CallContext, Reply
from zsticket.services.flow_collections import flow_inventory
from zsticket.services.flow_rules import FlowSpec, check_approver, check_title, flow_context, new_flow
from zsticket.services.flow_store import (
    chain_of,
    get_collection,
    in_progress_tickets,
    refresh_collection_status,
    reject_by_system,
)
from zsticket.services.ids import resource_uuid
from zsticket.store.tables import Flow, FlowCollection

ENFORCED_DELETE_COMMENT = "the current flow is deleted, reject this ticket"


def _collection_for_change(ctx: CallContext, uuid: str, *, field: str) -> FlowCollection:
    collection = get_collection(ctx.db, uuid, field=field, lock=True)
    if collection.uuid == SYSTEM_DEFAULT_COLLECTION_UUID:
        raise errors.system_collection_readonly(collection.uuid)
    return collection


def _get_flow(ctx: CallContext, uuid: str) -> Flow:
    flow = ctx.db.get(Flow, uuid)
    if flow is None:
        raise errors.not_found("uuid", uuid, "TicketFlowVO")
    return flow


def add_iam2_ticket_flow(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    """Inserted after ``parentFlowUuid``, or appended at the end ([DECISION] §6.1)."""
    ctx.require_admin()
    if not msg.get("name"):
        raise errors.flow_name_needed()
    collection = _collection_for_change(ctx, msg["collectionUuid"], field="collectionUuid")
    check_title(ctx, msg.get("approverTitle"))
    chain = chain_of(ctx.db, collection.uuid)
    parent_uuid = msg.get("parentFlowUuid")
    if parent_uuid is not None and parent_uuid not in {f.uuid for f in chain}:
        raise errors.parent_flow_elsewhere(parent_uuid, collection.uuid)
    if parent_uuid is None and chain:
        parent_uuid = chain[-1].uuid
    becomes_last = not chain or parent_uuid == chain[-1].uuid
    check_approver(ctx, msg["approverUuid"], collection.project_uuid, is_last=becomes_last)
    uuid = resource_uuid(ctx.db, Flow, msg.get("resourceUuid"), vo="TicketFlowVO")
    spec = FlowSpec(
        name=msg["name"],
        approver_uuid=msg["approverUuid"],
        description=msg.get("description"),
        approver_title=msg.get("approverTitle"),
    )
    old_child = next((f for f in chain if f.parent_flow_uuid == parent_uuid), None)
    flow = new_flow(ctx, uuid=uuid, collection_uuid=collection.uuid, parent=parent_uuid, spec=spec)
    ctx.db.add(flow)
    ctx.db.flush()
    if old_child is not None:
        old_child.parent_flow_uuid = uuid
        old_child.last_op_date = ctx.now
    collection.last_op_date = ctx.now
    return {"inventory": flow_inventory(flow)}


def update_iam2_ticket_flow(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    flow = _get_flow(ctx, msg["uuid"])
    collection = _collection_for_change(ctx, flow.collection_uuid, field="uuid")
    if "name" in msg:
        flow.name = msg["name"]
    if "description" in msg:
        flow.description = msg["description"]
    if "approverTitle" in msg:
        check_title(ctx, msg["approverTitle"])
        flow.approver_title = msg["approverTitle"]
    if "approverUuid" in msg:
        chain = chain_of(ctx.db, collection.uuid)
        check_approver(ctx, msg["approverUuid"], collection.project_uuid, is_last=chain[-1].uuid == flow.uuid)
        flow.approver_uuid = msg["approverUuid"]
        flow.valid = True
    flow.flow_context = flow_context(flow.approver_uuid, flow.approver_title)
    flow.last_op_date = ctx.now
    ctx.db.flush()
    refresh_collection_status(ctx.db, [collection.uuid], now=ctx.now)
    return {"inventory": flow_inventory(flow)}


def delete_iam2_ticket_flow(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    """Re-links the chain; Permissive refuses while tickets wait on this flow ([DECISION] §2.2.14, §6.7)."""
    ctx.require_admin()
    flow = ctx.db.get(Flow, msg["uuid"])
    if flow is None:
        return {}
    collection = _collection_for_change(ctx, flow.collection_uuid, field="uuid")
    chain = chain_of(ctx.db, collection.uuid)
    enforcing = msg.get("deleteMode", "Permissive") == "Enforcing"
    if len(chain) == 1 and not enforcing:
        raise errors.last_flow_cannot_be_deleted(collection.uuid)
    if chain[-1].uuid == flow.uuid and len(chain) > 1:
        check_approver(ctx, chain[-2].approver_uuid, collection.project_uuid, is_last=True)
    in_progress = in_progress_tickets(ctx.db, collection_uuids=[collection.uuid])
    waiting = [t for t in in_progress if t.current_flow_uuid == flow.uuid]
    if waiting and not enforcing:
        raise errors.tickets_in_progress("flow", flow.uuid, len(waiting))
    reject_by_system(ctx.db, waiting, comment=ENFORCED_DELETE_COMMENT, now=ctx.now)
    child = ctx.db.scalar(
        select(Flow).where(Flow.collection_uuid == collection.uuid, Flow.parent_flow_uuid == flow.uuid)
    )
    parent = flow.parent_flow_uuid
    ctx.db.delete(flow)
    ctx.db.flush()
    if child is not None:
        child.parent_flow_uuid = parent
        child.last_op_date = ctx.now
    ctx.db.flush()
    refresh_collection_status(ctx.db, [collection.uuid], now=ctx.now)
    return {}
