"""When an approver leaves a project or is deleted (spec §5.8), in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from zsticket.domain.errors import APPROVER_LOST_COMMENT
from zsticket.services.context import CallContext
from zsticket.services.flow_store import (
    in_progress_tickets,
    lock_chain,
    refresh_collection_status,
    reject_by_system,
)
from zsticket.services.identity_rules import is_privileged_approver
from zsticket.store.tables import Flow, FlowCollection


def _invalidate(ctx: CallContext, flow_uuids: Sequence[str]) -> None:
    if not flow_uuids:
        return
    collections = sorted(set(ctx.db.scalars(select(Flow.collection_uuid).where(Flow.uuid.in_(flow_uuids)))))
    lock_chain(ctx.db, collections, exclusive=True)
    ctx.db.execute(update(Flow).where(Flow.uuid.in_(flow_uuids)).values(valid=False, last_op_date=ctx.now))
    refresh_collection_status(ctx.db, collections, now=ctx.now)
    tickets = in_progress_tickets(ctx.db, collection_uuids=collections)
    reject_by_system(ctx.db, tickets, comment=APPROVER_LOST_COMMENT, now=ctx.now)


def on_approvers_left_project(ctx: CallContext, *, vid_uuids: Sequence[str], project_uuid: str) -> None:
    """Flows of the project naming a removed member become invalid, unless the member is privileged."""
    privileged = ctx.settings.privileged_approver_attributes
    lost = [u for u in vid_uuids if not is_privileged_approver(ctx.db, u, privileged)]
    if not lost:
        return
    flow_uuids = list(
        ctx.db.scalars(
            select(Flow.uuid)
            .join(FlowCollection, FlowCollection.uuid == Flow.collection_uuid)
            .where(FlowCollection.project_uuid == project_uuid, Flow.approver_uuid.in_(lost))
        )
    )
    _invalidate(ctx, flow_uuids)


def on_approver_deleted(ctx: CallContext, *, vid_uuid: str) -> None:
    flow_uuids = list(ctx.db.scalars(select(Flow.uuid).where(Flow.approver_uuid == vid_uuid)))
    _invalidate(ctx, flow_uuids)
