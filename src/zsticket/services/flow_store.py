"""Loading a collection's chain and the tickets moving on it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DbSession

from zsticket.domain import errors
from zsticket.domain.approval import SYSTEM_OPERATOR
from zsticket.domain.flow_chain import order_chain
from zsticket.domain.ticket_status import IN_PROGRESS, TicketStatus
from zsticket.services.ticket_records import record_history
from zsticket.store.tables import Flow, FlowCollection, Ticket

IN_PROGRESS_VALUES = [s.value for s in IN_PROGRESS]


def get_collection(db: DbSession, uuid: str, *, field: str = "uuid", lock: bool = False) -> FlowCollection:
    stmt = select(FlowCollection).where(FlowCollection.uuid == uuid)
    if lock:  # an edit of the chain: see lock_chain
        stmt = stmt.with_for_update()
    collection = db.scalar(stmt)
    if collection is None:
        raise errors.not_found(field, uuid, "TicketFlowCollectionVO")
    return collection


def lock_chain(db: DbSession, collection_uuids: Sequence[str], *, exclusive: bool) -> None:
    """The lock order of every chain change: collection rows (sorted) before any ticket row.

    Edits of a chain hold its collection row exclusively, and ticket moves that read the chain
    (create, approve, reopen) hold it shared, so no ticket starts on or moves to a flow that a
    concurrent edit removes. On PostgreSQL these are ``FOR UPDATE``/``FOR SHARE``; SQLite
    serialises writers anyway and ignores them.
    """
    if collection_uuids:
        stmt = select(FlowCollection.uuid).where(FlowCollection.uuid.in_(sorted(set(collection_uuids))))
        db.execute(stmt.order_by(FlowCollection.uuid).with_for_update(read=not exclusive)).all()


def chain_of(db: DbSession, collection_uuid: str) -> list[Flow]:
    flows = db.scalars(select(Flow).where(Flow.collection_uuid == collection_uuid)).all()
    return order_chain(flows)


def head_of(db: DbSession, collection_uuid: str) -> Flow | None:
    return db.scalar(
        select(Flow).where(Flow.collection_uuid == collection_uuid, Flow.parent_flow_uuid.is_(None)).limit(1)
    )


def child_of(db: DbSession, flow: Flow) -> Flow | None:
    return db.scalar(
        select(Flow).where(Flow.collection_uuid == flow.collection_uuid, Flow.parent_flow_uuid == flow.uuid).limit(1)
    )


def in_progress_tickets(
    db: DbSession, *, collection_uuids: Sequence[str] = (), flow_uuid: str | None = None
) -> list[Ticket]:
    stmt = select(Ticket).where(Ticket.status.in_(IN_PROGRESS_VALUES))
    if flow_uuid is not None:
        stmt = stmt.where(Ticket.current_flow_uuid == flow_uuid)
    else:
        stmt = stmt.where(Ticket.flow_collection_uuid.in_(list(collection_uuids)))
    return list(db.scalars(stmt.order_by(Ticket.create_date).with_for_update()))


def count_in_progress(db: DbSession, *, collection_uuid: str | None = None, flow_uuid: str | None = None) -> int:
    stmt = select(func.count()).select_from(Ticket).where(Ticket.status.in_(IN_PROGRESS_VALUES))
    if flow_uuid is not None:
        stmt = stmt.where(Ticket.current_flow_uuid == flow_uuid)
    if collection_uuid is not None:
        stmt = stmt.where(Ticket.flow_collection_uuid == collection_uuid)
    return db.scalar(stmt) or 0


def reject_by_system(db: DbSession, tickets: Sequence[Ticket], *, comment: str, now: datetime) -> None:
    """The system rejects in-progress tickets (spec §5.8), each with one history row."""
    flow_names = {
        f.uuid: f.name
        for f in db.scalars(
            select(Flow).where(Flow.uuid.in_([t.current_flow_uuid for t in tickets if t.current_flow_uuid]))
        )
    }
    for ticket in tickets:
        from_status = ticket.status
        ticket.status = TicketStatus.REJECTED.value
        ticket.last_op_date = now
        record_history(
            db,
            ticket=ticket,
            from_status=from_status,
            operator=SYSTEM_OPERATOR,
            now=now,
            comment=comment,
            flow_name=flow_names.get(ticket.current_flow_uuid or ""),
        )


def refresh_collection_status(db: DbSession, collection_uuids: Sequence[str], *, now: datetime) -> None:
    """A collection is Valid exactly when it has flows and all of them are valid."""
    for uuid in collection_uuids:
        total, valid = db.execute(
            select(func.count(), func.count().filter(Flow.valid.is_(True))).where(Flow.collection_uuid == uuid)
        ).one()
        db.execute(
            update(FlowCollection)
            .where(FlowCollection.uuid == uuid)
            .values(status="Valid" if total and total == valid else "Invalid", last_op_date=now)
        )
