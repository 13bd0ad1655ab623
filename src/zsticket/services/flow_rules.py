"""Checks shared by the collection and flow APIs (spec §6.2, §6.6)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from zsticket.domain import errors
from zsticket.domain.approval import ADMIN_ACCOUNT_UUID
from zsticket.services.context import CallContext
from zsticket.services.identity_rules import is_member, is_privileged_approver
from zsticket.store.tables import Flow, FlowCollection, TicketType, TicketTypeCollectionRef, VirtualID

FLOW_CONTEXT_TYPE = "IAM2TicketFlowContext"


@dataclass(frozen=True)
class FlowSpec:
    name: str
    approver_uuid: str
    description: str | None = None
    approver_title: str | None = None


def flow_specs(raw: Sequence[Any]) -> list[FlowSpec]:
    """Parse IAM2FlowStruct items, with the messages of IAI:117/128/132."""
    if not raw:
        raise errors.no_flows()
    specs: list[FlowSpec] = []
    for item in raw:
        if not isinstance(item, dict):
            raise errors.argerr("every element of flows must be an object")
        name, approver = item.get("name"), item.get("approverUuid")
        if not isinstance(name, str) or not name:
            raise errors.flow_name_null()
        if not isinstance(approver, str) or not approver:
            raise errors.approver_null()
        description, title = item.get("description"), item.get("approverTitle")
        if len(name) > 255:
            raise errors.argerr("the name of a flow exceeds max length of string. expected was <= 255")
        specs.append(
            FlowSpec(
                name=name,
                approver_uuid=approver,
                description=description if isinstance(description, str) else None,
                approver_title=title if isinstance(title, str) and title else None,
            )
        )
    return specs


def check_title(ctx: CallContext, title: str | None) -> None:
    valid = ctx.settings.approver_titles
    if title is not None and title not in valid:
        raise errors.wrong_approver_title(title, valid)


def check_approver(ctx: CallContext, approver_uuid: str, project_uuid: str | None, *, is_last: bool) -> None:
    """Exists (IAI:140), member of the project unless privileged (IAI:147), privileged if last (IAI:102)."""
    privileged = is_privileged_approver(ctx.db, approver_uuid, ctx.settings.privileged_approver_attributes)
    if approver_uuid != ADMIN_ACCOUNT_UUID and ctx.db.get(VirtualID, approver_uuid) is None:
        raise errors.unknown_virtual_id(approver_uuid)
    if not privileged and project_uuid is not None and not is_member(ctx.db, approver_uuid, project_uuid):
        raise errors.approver_not_in_project(approver_uuid, project_uuid)
    if is_last and not privileged:
        raise errors.last_approver_not_privileged()


def check_chain(ctx: CallContext, specs: Sequence[FlowSpec], project_uuid: str | None) -> None:
    for spec in specs:
        check_title(ctx, spec.approver_title)
    for index, spec in enumerate(specs):
        check_approver(ctx, spec.approver_uuid, project_uuid, is_last=index == len(specs) - 1)


def flow_context(approver_uuid: str, approver_title: str | None) -> str:
    context: dict[str, Any] = {"approverUuid": approver_uuid}
    if approver_title is not None:
        context["approverTitle"] = approver_title
    return json.dumps(context)


def check_ticket_types_free(
    ctx: CallContext, type_uuids: Sequence[str], *, project_uuid: str | None, collection_uuid: str | None
) -> None:
    """Each type exists and is bound to no other collection of the same project (IAI:79)."""
    found = set(ctx.db.scalars(select(TicketType.uuid).where(TicketType.uuid.in_(type_uuids))))
    missing = [u for u in type_uuids if u not in found]
    if missing:
        raise errors.not_found_many("ticketTypeUuids", missing, "TicketTypeVO")
    stmt = (
        select(TicketTypeCollectionRef.ticket_flow_collection_uuid)
        .join(FlowCollection, FlowCollection.uuid == TicketTypeCollectionRef.ticket_flow_collection_uuid)
        .where(TicketTypeCollectionRef.ticket_type_uuid.in_(type_uuids))
    )
    stmt = stmt.where(
        FlowCollection.project_uuid.is_(None) if project_uuid is None else FlowCollection.project_uuid == project_uuid
    )
    if collection_uuid is not None:
        stmt = stmt.where(FlowCollection.uuid != collection_uuid)
    if ctx.db.scalar(stmt.limit(1)) is not None:
        raise errors.ticket_type_taken()


def bind_ticket_types(ctx: CallContext, collection_uuid: str, type_uuids: Sequence[str]) -> None:
    existing = set(
        ctx.db.scalars(
            select(TicketTypeCollectionRef.ticket_type_uuid).where(
                TicketTypeCollectionRef.ticket_flow_collection_uuid == collection_uuid
            )
        )
    )
    ctx.db.add_all(
        TicketTypeCollectionRef(
            ticket_type_uuid=u, ticket_flow_collection_uuid=collection_uuid, create_date=ctx.now, last_op_date=ctx.now
        )
        for u in dict.fromkeys(type_uuids)
        if u not in existing
    )


def new_flow(ctx: CallContext, *, uuid: str, collection_uuid: str, parent: str | None, spec: FlowSpec) -> Flow:
    return Flow(
        uuid=uuid,
        name=spec.name,
        description=spec.description,
        collection_uuid=collection_uuid,
        parent_flow_uuid=parent,
        flow_context=flow_context(spec.approver_uuid, spec.approver_title),
        flow_context_type=FLOW_CONTEXT_TYPE,
        approver_uuid=spec.approver_uuid,
        approver_title=spec.approver_title,
        valid=True,
        create_date=ctx.now,
        last_op_date=ctx.now,
    )
