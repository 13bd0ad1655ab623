"""The ticket-type table: seeded from the built-in registry, read for matching."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from zsticket.domain.ticket_types import BUILT_IN_TICKET_TYPES, TicketType
from zsticket.store.tables import TicketType as TicketTypeRow


def load_ticket_types(db: DbSession) -> list[TicketType]:
    rows = db.scalars(select(TicketTypeRow).order_by(TicketTypeRow.create_date, TicketTypeRow.uuid))
    return [
        TicketType(
            uuid=row.uuid,
            name=row.name,
            type=row.type,
            description=row.description or "",
            api_names=tuple(json.loads(row.requests or "[]")),
            admin_only=row.admin_only,
        )
        for row in rows
    ]


def seed_ticket_types(db: DbSession, *, now: datetime) -> None:
    """Insert or refresh the built-in types (there is no API to create them, spec §2.1)."""
    for ticket_type in BUILT_IN_TICKET_TYPES:
        row = db.get(TicketTypeRow, ticket_type.uuid)
        if row is None:
            row = TicketTypeRow(uuid=ticket_type.uuid, create_date=now)
            db.add(row)
        row.name = ticket_type.name
        row.type = ticket_type.type
        row.description = ticket_type.description
        row.requests = json.dumps(list(ticket_type.api_names))
        row.admin_only = ticket_type.admin_only
        row.last_op_date = now
