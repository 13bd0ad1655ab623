"""JSON as ZStack's Gson writes it: null fields omitted, dates in ZStack's format."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from zsticket.wire_dates import format_zstack_date


def to_wire(value: Any) -> Any:
    """A copy of ``value`` ready for ``json.dumps``: no ``None`` members, dates as strings."""
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    if isinstance(value, datetime):
        return format_zstack_date(value)
    return value


def dumps(value: Any) -> str:
    return json.dumps(to_wire(value), ensure_ascii=False, separators=(",", ":"))
