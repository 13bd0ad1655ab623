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


def takes_row_locks(db: DbSession) -> bool:
    """SQLite serialises writers (BEGIN IMMEDIATE) and has no row locks to take."""
    return db.get_bind().dialect.name != "sqlite"


def lock_chain(db: DbSession, collection_uuids: Sequence[str], *, exclusive: bool) -> bool:
    """Keep tickets off flows that a concurrent edit of the chain removes (PostgreSQL).

    The lock order is: collection rows (sorted), then ticket rows. An edit of a chain holds its
    collection row exclusively and then every in-progress ticket on it (``in_progress_tickets``),
    so an approval, which locks its in-progress ticket, is ordered before or after the edit. A
    ticket that enters the chain (create, reopen) is not in progress yet and holds the collection
    row shared instead. True when a lock was taken.
    """
    if not collection_uuids or not takes_row_locks(db):
        return False
    stmt = select(FlowCollection.uuid).where(FlowCollection.uuid.in_(sorted(set(collection_uuids))))
    db.execute(stmt.order_by(FlowCollection.uuid).with_for_update(read=not exclusive)).all()
    return True


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


def in_progress_tickets(db: DbSession, *, collection_uuids: Sequence[str]) -> list[Ticket]:
    """Every in-progress ticket on the collections, locked: see lock_chain for why all of them."""
    stmt = select(Ticket).where(
        Ticket.status.in_(IN_PROGRESS_VALUES), Ticket.flow_collection_uuid.in_(list(collection_uuids))
    )
    return list(db.scalars(stmt.order_by(Ticket.create_date, Ticket.uuid).with_for_update()))


def count_in_progress(db: DbSession, *, collection_uuid: str) -> int:
    stmt = select(func.count()).select_from(Ticket).where(Ticket.status.in_(IN_PROGRESS_VALUES))
    return db.scalar(stmt.where(Ticket.flow_collection_uuid == collection_uuid)) or 0


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
