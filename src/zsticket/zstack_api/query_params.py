"""Query parameters of REST (``q=``, ``limit``, ``sort``...) and RPC (``conditions``) as one QueryRequest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zsticket.domain import errors
from zsticket.store.query_engine import Condition, Op, QueryRequest

# RestServer.QUERY_OP_MAPPING: the first operator contained in the condition wins.
REST_OPERATORS: tuple[tuple[str, Op], ...] = (
    ("!=", Op.NE),
    (">=", Op.GE),
    ("<=", Op.LE),
    ("!?=", Op.NOT_IN),
    ("!~=", Op.NOT_LIKE),
    ("~=", Op.LIKE),
    ("?=", Op.IN),
    ("=", Op.EQ),
    (">", Op.GT),
    ("<", Op.LT),
    ("is null", Op.IS_NULL),
    ("not null", Op.NOT_NULL),
)

RPC_OPERATORS: dict[str, Op] = {op.value: op for op in Op} | {"not null": Op.NOT_NULL}


class BadQuery(Exception):
    """A REST query parameter ZStack refuses with 400 plain text, before any API runs."""


def parse_condition(text: str) -> Condition:
    for token, op in REST_OPERATORS:
        if token in text:
            name, value = text.split(token, 1)
            if op in (Op.IS_NULL, Op.NOT_NULL):
                return Condition(name.strip(), op)
            return Condition(name.strip(), op, value)
    valid = [token for token, _ in REST_OPERATORS]
    raise BadQuery(
        f"Invalid query parameter. The '{text}' in the parameter[q] doesn't contain any query operator. "
        f"Valid query operators are {valid}"
    )


def _int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise BadQuery(f"[{name}] field is excepted an int or long, but was [{raw}].") from None


def _bool(raw: str) -> bool:
    return raw.strip().lower() == "true"


def parse_sort(raw: str) -> tuple[str, bool]:
    text = raw.strip()
    if text.startswith("-"):
        return text[1:].strip(), False
    if text.startswith("+"):
        return text[1:].strip(), True
    return text, True


def _fields(raw: str) -> list[str]:
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    if not fields:
        raise BadQuery("Invalid query parameter[fields], it must contain at least one field")
    return fields


def from_rest(params: Sequence[tuple[str, str]]) -> QueryRequest:
    """Parse the query string of a REST query; unknown parameters are ignored as RestServer does."""
    request = QueryRequest()
    seen: set[str] = set()
    for key, value in params:
        if key == "q":
            if value not in seen:
                seen.add(value)
                request.conditions.append(parse_condition(value))
        elif key == "limit":
            request.limit = _int("limit", value)
        elif key == "start":
            request.start = _int("start", value)
        elif key == "count":
            request.count = _bool(value)
        elif key == "replyWithCount":
            request.reply_with_count = _bool(value)
        elif key == "sort" and value.strip():
            request.sort_by, request.sort_ascending = parse_sort(value)
        elif key == "fields":
            request.fields = _fields(value)
    return request


def _rpc_int(msg: dict[str, Any], name: str, default: int) -> int:
    raw = msg.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise errors.wrong_type(name, "query", "an integer", raw)
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise errors.wrong_type(name, "query", "an integer", raw) from None


def _rpc_bool(raw: Any) -> bool:
    return raw is True or (isinstance(raw, str) and raw.strip().lower() == "true")


def from_rpc(msg: dict[str, Any]) -> QueryRequest:
    """Parse an RPC query message (``conditions``, ``sortBy``, ``sortDirection``...)."""
    request = QueryRequest(limit=_rpc_int(msg, "limit", 1000), start=_rpc_int(msg, "start", 0))
    request.count = _rpc_bool(msg.get("count"))
    request.reply_with_count = _rpc_bool(msg.get("replyWithCount"))
    conditions = msg.get("conditions") or []
    if not isinstance(conditions, list):
        raise errors.argerr("conditions must be a list of {name, op, value}")
    for item in conditions:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise errors.argerr(f"invalid query condition {item!r}, expected {{name, op, value}}")
        op = RPC_OPERATORS.get(str(item.get("op", "")).strip().lower())
        if op is None:
            raise errors.argerr(f"invalid query operator[{item.get('op')}], valid ones are {list(RPC_OPERATORS)}")
        request.conditions.append(Condition(item["name"].strip(), op, item.get("value")))
    sort_by = msg.get("sortBy")
    if isinstance(sort_by, str) and sort_by:
        request.sort_by = sort_by
        request.sort_ascending = str(msg.get("sortDirection", "asc")).lower() != "desc"
    fields = msg.get("fields")
    if isinstance(fields, list) and fields:
        request.fields = [str(f) for f in fields]
    return request
