"""32-hex lowercase uuids, as ZStack's ``Platform.getUuid()`` makes them."""

from __future__ import annotations

import uuid as _uuid

from zsticket.domain.identifiers import check_resource_uuid


def new_uuid() -> str:
    return _uuid.uuid4().hex


def resource_uuid(requested: str | None) -> str:
    """The caller's ``resourceUuid`` if valid, else a fresh one."""
    if requested is None:
        return new_uuid()
    check_resource_uuid(requested)
    return requested
