"""ZStack uuid formats."""

from __future__ import annotations

import re

from zsticket.domain import errors

ZSTACK_UUID = re.compile(r"^[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}$")
ANY_UUID = re.compile(r"^[0-9a-f]{32}$")


def check_resource_uuid(value: str) -> None:
    """A caller-chosen ``resourceUuid`` must be a dash-less v1-v5 UUID (``StringDSL.isZStackUuid``)."""
    if not ZSTACK_UUID.match(value):
        raise errors.invalid_resource_uuid(value)
