"""Dates as ZStack renders and parses them, independent of the process locale.

The database keeps naive UTC; the wire shows the service's local time without an offset,
as a ZStack management node does (``"Dec 4, 2026 1:02:03 PM"``).
"""

from __future__ import annotations

from datetime import UTC, datetime

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_INDEX = {name: i + 1 for i, name in enumerate(_MONTHS)}


def utcnow() -> datetime:
    """Naive UTC now, truncated to milliseconds so that every database stores it the same."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_local(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC).astimezone().replace(tzinfo=None)


def from_local(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def format_zstack_date(value: datetime) -> str:
    """``MMM d, yyyy h:mm:ss a`` in local time, e.g. ``Dec 4, 2026 1:02:03 PM``."""
    local = to_local(value)
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    return f"{_MONTHS[local.month - 1]} {local.day}, {local.year} {hour}:{local.minute:02d}:{local.second:02d} {half}"


def parse_zstack_date(text: str) -> datetime:
    """The inverse of :func:`format_zstack_date`, back to naive UTC."""
    try:
        month_day, year_time = text.strip().split(", ", 1)
        month, day = month_day.split(" ")
        year, clock, half = year_time.split(" ")
        hour, minute, second = (int(part) for part in clock.split(":"))
        if half.upper() not in ("AM", "PM") or not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if half.upper() == "PM" else 0)
        local = datetime(int(year), _MONTH_INDEX[month], int(day), hour, minute, second)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"not a date: {text!r}") from exc
    return from_local(local)


def parse_query_date(text: str) -> datetime:
    """A query value: ``yyyy-mm-dd hh:mm:ss[.fff]`` (Java ``Timestamp.valueOf``), ISO-8601 or ZStack's format."""
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return parse_zstack_date(text)
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC).replace(tzinfo=None)
    return from_local(parsed)
