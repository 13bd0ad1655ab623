"""Ticket use cases: create, change status, update requests, delete (spec §5)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session as DbSession

from zsticket.domain import errors
from zsticket.domain.api_bodies import check_api_body
from zsticket.domain.approval import (
    Operator,
    OperatorType,
    TicketFacts,
    check_is_owner,
    check_may_change_status,
)
from zsticket.domain.ticket_status import EDITABLE, TicketStatus, TicketStatusEvent, next_status
from zsticket.domain.ticket_types import (
    ACCOUNT_SYSTEM_TYPE_IAM2,
    SYSTEM_DEFAULT_COLLECTION_UUID,
    TicketType,
    match_ticket_type,
)
from zsticket.services import executions
from zsticket.services.context import CallContext, Reply
from zsticket.services.flow_store import child_of, get_collection, head_of, lock_chain
from zsticket.services.identity_rules import is_member, is_project_admin
from zsticket.services.ids import resource_uuid
from zsticket.services.ticket_records import REQUEST_UPDATED, archive_ticket, record_history, ticket_inventory
from zsticket.services.ticket_types import load_ticket_types
from zsticket.store.tables import (
    Flow,
    FlowCollection,
    Project,
    Ticket,
    TicketTypeCollectionRef,
    VirtualID,
)


def _normalise_requests(raw: list[Any]) -> list[dict[str, Any]]:
    """TicketRequest elements (spec §3.2); ``executeTimes`` defaults to 1 and must be >= 1."""
    requests: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise errors.argerr(f"requests[{index}] must be an object")
        api_name = item.get("apiName")
        if not isinstance(api_name, str) or not api_name:
            raise errors.argerr(f"requests[{index}].apiName is mandatory, can not be null")
        request_name = item.get("requestName")
        if request_name is not None and not isinstance(request_name, str):
            raise errors.argerr(f"requests[{index}].requestName must be a string")
        times = item.get("executeTimes", 1)
        if isinstance(times, float) and times == int(times):
            times = int(times)
        if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 1000:
            raise errors.argerr(f"requests[{index}].executeTimes must be an integer in range of [1, 1000]")
        request: dict[str, Any] = {"apiName": api_name, "executeTimes": times, "apiBody": item.get("apiBody")}
        if request_name is not None:
            request["requestName"] = request_name
        requests.append(request)
    return requests


def _ticket_type_of(db: DbSession, requests: list[dict[str, Any]]) -> TicketType:
    return match_ticket_type(load_ticket_types(db), [r["apiName"] for r in requests])


def _check_api_bodies(requests: list[dict[str, Any]]) -> None:
    for request in requests:
        check_api_body(request["apiName"], request["apiBody"])


def _is_bound(db: DbSession, collection_uuid: str, type_uuid: str) -> bool:
    return db.get(TicketTypeCollectionRef, (type_uuid, collection_uuid)) is not None


def _check_usable(collection: FlowCollection) -> None:
    if collection.status != "Valid":
        raise errors.collection_invalid(collection.uuid)
    if collection.state != "Enabled":
        raise errors.collection_disabled(collection.uuid)


def _select_collection(
    db: DbSession, *, requested: str | None, project_uuid: str, ticket_type: TicketType
) -> FlowCollection:
    """Spec §6.4: the requested one, else the project's typed one, its default, the system default."""
    if requested is not None:
        collection = get_collection(db, requested, field="flowCollectionUuid")
        is_system = collection.uuid == SYSTEM_DEFAULT_COLLECTION_UUID
        if not is_system and not _is_bound(db, collection.uuid, ticket_type.uuid):
            raise errors.collection_type_mismatch(collection.uuid, ticket_type.uuid)
        _check_usable(collection)
        if not is_system and collection.project_uuid != project_uuid:
            raise errors.collection_not_in_project(collection.uuid, project_uuid)
        return collection
    candidates = [
        select(FlowCollection)
        .join(TicketTypeCollectionRef, TicketTypeCollectionRef.ticket_flow_collection_uuid == FlowCollection.uuid)
        .where(
            FlowCollection.project_uuid == project_uuid, TicketTypeCollectionRef.ticket_type_uuid == ticket_type.uuid
        ),
        select(FlowCollection).where(FlowCollection.project_uuid == project_uuid, FlowCollection.is_default.is_(True)),
        select(FlowCollection).where(FlowCollection.uuid == SYSTEM_DEFAULT_COLLECTION_UUID),
    ]
    for stmt in candidates:
        for collection in db.scalars(stmt.order_by(FlowCollection.create_date)):
            if collection.status == "Valid" and collection.state == "Enabled":
                return collection
    raise errors.no_collection()


def _submitter_context(ctx: CallContext, raw: dict[str, Any]) -> tuple[Project, str]:
    project_uuid = raw.get("projectUuid")
    vid_uuid = raw.get("virtualIDUuid")
    if not isinstance(project_uuid, str) or not project_uuid:
        raise errors.argerr("accountSystemContext.projectUuid is mandatory, can not be null")
    if not isinstance(vid_uuid, str) or not vid_uuid:
        raise errors.argerr("accountSystemContext.virtualIDUuid is mandatory, can not be null")
    caller = ctx.caller
    if caller.uuid != vid_uuid:
        raise errors.permission_denied(
            f"operation denied. account/virtual ID[uuid:{caller.uuid}] cannot submit a ticket "
            f"on behalf of virtual ID[uuid:{vid_uuid}]"
        )
    project = ctx.db.get(Project, project_uuid)
    if project is None:
        raise errors.not_found("accountSystemContext.projectUuid", project_uuid, "IAM2ProjectVO")
    if project.state != "Enabled":
        raise errors.project_state(project.uuid, project.state)
    if caller.project_uuid is not None and caller.project_uuid != project.uuid:
        raise errors.permission_denied(
            f"operation denied. the session is logged in to project[uuid:{caller.project_uuid}]"
        )
    if not is_member(ctx.db, vid_uuid, project.uuid):
        raise errors.permission_denied(
            f"operation denied. virtual ID[uuid:{vid_uuid}] is not a member of project[uuid:{project.uuid}]"
        )
    return project, vid_uuid  # the session's own virtual ID: authenticate() checked that it exists


def create_ticket(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    if msg["accountSystemType"] != ACCOUNT_SYSTEM_TYPE_IAM2:
        raise errors.unknown_account_system_type(msg["accountSystemType"])
    if ctx.caller.type is not OperatorType.VIRTUAL_ID:
        raise errors.permission_denied("operation denied. tickets are submitted by IAM2 virtual IDs")
    project, vid_uuid = _submitter_context(ctx, msg["accountSystemContext"])
    requests = _normalise_requests(msg["requests"])
    ticket_type = _ticket_type_of(ctx.db, requests)
    if ticket_type.admin_only:
        raise errors.admin_only_ticket_type(ticket_type.uuid)
    collection = _select_collection(
        ctx.db, requested=msg.get("flowCollectionUuid"), project_uuid=project.uuid, ticket_type=ticket_type
    )
    _check_api_bodies(requests)
    if lock_chain(ctx.db, [collection.uuid], exclusive=False):
        ctx.db.refresh(collection)  # as it is now that no edit of it is in flight
        _check_usable(collection)
    head = head_of(ctx.db, collection.uuid)
    if head is None:
        raise errors.collection_invalid(collection.uuid)
    uuid = resource_uuid(ctx.db, Ticket, msg.get("resourceUuid"), vo="TicketVO")
    ticket = Ticket(
        uuid=uuid,
        name=msg["name"],
        description=msg.get("description"),
        status=TicketStatus.PENDING.value,
        requests=json.dumps(requests),
        account_system_type=ACCOUNT_SYSTEM_TYPE_IAM2,
        account_system_context=json.dumps({"projectUuid": project.uuid, "virtualIDUuid": vid_uuid}),
        account_uuid=project.linked_account_uuid,
        project_uuid=project.uuid,
        virtual_id_uuid=vid_uuid,
        flow_collection_uuid=collection.uuid,
        current_flow_uuid=head.uuid,
        ticket_type_uuid=ticket_type.uuid,
        revision=0,
        create_date=ctx.now,
        last_op_date=ctx.now,
    )
    ctx.db.add(ticket)
    record_history(
        ctx.db,
        ticket=ticket,
        from_status=TicketStatus.PENDING.value,
        operator=ctx.caller,
        now=ctx.now,
        comment=TicketStatusEvent.OPEN.value,
        flow_name=head.name,
    )
    return {"inventory": ticket_inventory(ticket)}


def can_see_ticket(db: DbSession, operator: Operator, ticket: Ticket) -> bool:
    """The same rule as the query visibility filter (services/ticket_queries.py)."""
    if operator.is_admin or operator.uuid == ticket.virtual_id_uuid:
        return True
    approver = db.scalar(
        select(Flow.uuid)
        .where(Flow.collection_uuid == ticket.flow_collection_uuid, Flow.approver_uuid == operator.uuid)
        .limit(1)
    )
    return approver is not None or is_project_admin(db, operator.uuid, ticket.project_uuid)


def _load_ticket(ctx: CallContext, uuid: str) -> tuple[Ticket, Flow | None]:
    """The ticket, locked for this transaction, and the flow it waits on; invisible tickets are not found.

    The current flow also answers the usual visibility question (is the caller its approver?)
    without the general can_see_ticket lookup.
    """
    ticket = ctx.db.scalar(select(Ticket).where(Ticket.uuid == uuid).with_for_update())
    if ticket is None:
        raise errors.not_found("uuid", uuid, "TicketVO")
    current = ctx.db.get(Flow, ticket.current_flow_uuid) if ticket.current_flow_uuid else None
    approves_now = current is not None and current.approver_uuid == ctx.caller.uuid
    if not approves_now and not can_see_ticket(ctx.db, ctx.caller, ticket):
        raise errors.not_found("uuid", uuid, "TicketVO")
    return ticket, current


def _check_not_orphaned(ctx: CallContext, ticket: Ticket) -> None:
    """Spec §5.10: once the submitter or the project is gone, a ticket can only be deleted."""
    submitter_exists, project_state = ctx.db.execute(
        select(
            exists().where(VirtualID.uuid == ticket.virtual_id_uuid),
            select(Project.state).where(Project.uuid == ticket.project_uuid).scalar_subquery(),
        )
    ).one()
    if not submitter_exists:
        raise errors.submitter_deleted(ticket.virtual_id_uuid, ticket.uuid, ticket.name)
    if project_state is None or project_state == "Deleted":
        raise errors.project_deleted(ticket.project_uuid, ticket.uuid, ticket.name)


def _facts(ctx: CallContext, ticket: Ticket, current: Flow | None) -> TicketFacts:
    return TicketFacts(
        uuid=ticket.uuid,
        name=ticket.name,
        submitter_uuid=ticket.virtual_id_uuid,
        current_approver_uuid=current.approver_uuid if current is not None else None,
    )


def change_ticket_status(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ticket, current = _load_ticket(ctx, msg["uuid"])
    _check_not_orphaned(ctx, ticket)
    event = TicketStatusEvent(msg["statusEvent"])
    status = TicketStatus(ticket.status)
    following = child_of(ctx.db, current) if current is not None else None
    target = next_status(status, event, has_next_flow=following is not None)
    check_may_change_status(
        operator=ctx.caller, ticket=_facts(ctx, ticket, current), event=event, policy=ctx.approval_policy
    )
    flow_name = current.name if current is not None else None
    if event is TicketStatusEvent.APPROVE:
        ticket.current_flow_uuid = following.uuid if following is not None else None
        if target is TicketStatus.FINAL_APPROVED:
            executions.enqueue(ctx.db, ticket, now=ctx.now)
            ctx.after_commit.append(ctx.wake_executions)
    elif event is TicketStatusEvent.REOPEN:
        lock_chain(ctx.db, [ticket.flow_collection_uuid], exclusive=False)  # the ticket re-enters the chain
        collection = get_collection(ctx.db, ticket.flow_collection_uuid, field="flowCollectionUuid")
        _check_usable(collection)
        head = head_of(ctx.db, collection.uuid)
        if head is None:
            raise errors.collection_invalid(collection.uuid)
        ticket.current_flow_uuid = head.uuid
        ticket.revision += 1
        flow_name = head.name
    ticket.status = target.value
    ticket.last_op_date = ctx.now
    record_history(
        ctx.db,
        ticket=ticket,
        from_status=status.value,
        operator=ctx.caller,
        now=ctx.now,
        comment=msg.get("comment"),
        flow_name=flow_name,
    )
    return {"inventory": ticket_inventory(ticket)}


def update_ticket_request(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ticket, _ = _load_ticket(ctx, msg["uuid"])
    _check_not_orphaned(ctx, ticket)
    check_is_owner(operator=ctx.caller, ticket=_facts(ctx, ticket, None), policy=ctx.approval_policy)
    if TicketStatus(ticket.status) not in EDITABLE:
        raise errors.ticket_not_updatable(ticket.uuid, ticket.name, ticket.status)
    requests = _normalise_requests(msg["requests"])
    ticket_type = _ticket_type_of(ctx.db, requests)
    if ticket_type.admin_only:
        raise errors.admin_only_ticket_type(ticket_type.uuid)
    collection_uuid = ticket.flow_collection_uuid
    if collection_uuid != SYSTEM_DEFAULT_COLLECTION_UUID and not _is_bound(ctx.db, collection_uuid, ticket_type.uuid):
        raise errors.collection_type_mismatch(collection_uuid, ticket_type.uuid)
    _check_api_bodies(requests)
    ticket.requests = json.dumps(requests)
    ticket.ticket_type_uuid = ticket_type.uuid
    if "description" in msg:
        ticket.description = msg["description"]
    ticket.revision += 1
    ticket.last_op_date = ctx.now
    record_history(
        ctx.db,
        ticket=ticket,
        from_status=ticket.status,
        operator=ctx.caller,
        now=ctx.now,
        context_type=REQUEST_UPDATED,
    )
    return {"inventory": ticket_inventory(ticket)}


def delete_ticket(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    """Archives the ticket and its history (spec §5.9); allowed to admin, submitter and project admin."""
    ticket = ctx.db.scalar(select(Ticket).where(Ticket.uuid == msg["uuid"]).with_for_update())
    if ticket is None:
        return {}
    caller = ctx.caller
    allowed = (
        caller.is_admin
        or caller.uuid == ticket.virtual_id_uuid
        or is_project_admin(ctx.db, caller.uuid, ticket.project_uuid)
    )
    if not allowed:
        if can_see_ticket(ctx.db, caller, ticket):
            raise errors.permission_denied(
                "operation denied. only admin, the submitter or the project admin "
                f"can delete ticket[uuid:{ticket.uuid}]"
            )
        raise errors.not_found("uuid", ticket.uuid, "TicketVO")
    pending, sent = executions.count_unfinished(ctx.db, ticket.uuid)
    if sent or (pending and msg.get("deleteMode") != "Enforcing"):
        raise errors.executions_pending(ticket.uuid, pending)
    archive_ticket(ctx.db, ticket)
    return {}
