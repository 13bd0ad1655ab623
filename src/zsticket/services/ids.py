"""32-hex lowercase uuids, as ZStack's ``Platform.getUuid()`` makes them."""

from __future__ import annotations

import uuid as _uuid
from typing import Any

from sqlalchemy.orm import Session as DbSession

from zsticket.domain import errors
from zsticket.domain.identifiers import check_resource_uuid


def new_uuid() -> str:
    return _uuid.uuid4().hex


def resource_uuid(db: DbSession, entity: type[Any], requested: str | None, *, vo: str) -> str:
    """The caller's ``resourceUuid`` if well-formed and free, else a fresh one (no query needed)."""
    if requested is None:
        return new_uuid()
    check_resource_uuid(requested)
    if db.get(entity, requested) is not None:
        raise errors.resource_exists(requested, vo)
    return requested
