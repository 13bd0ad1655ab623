"""ZStack queries compiled to one SQL statement (spec: rest-conventions §7).

Each inventory declares its queryable fields as a :class:`QueryDef`; conditions, the caller's
visibility filter, sort and paging become a single ``SELECT`` (plus one ``COUNT`` when asked).
Nothing loads a whole table into Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm import Session as DbSession

from zsticket.domain import errors
from zsticket.wire_dates import parse_query_date


class Op(StrEnum):
    EQ = "="
    NE = "!="
    GT = ">"
    LT = "<"
    GE = ">="
    LE = "<="
    IN = "in"
    NOT_IN = "not in"
    LIKE = "like"
    NOT_LIKE = "not like"
    IS_NULL = "is null"
    NOT_NULL = "is not null"


class FieldType(Enum):
    STRING = "string"
    INT = "int"
    BOOL = "bool"
    DATE = "date"


Clause = ColumnElement[bool]
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1


@dataclass(frozen=True)
class QueryField:
    """A queryable inventory field: a column, or a membership test through a related table."""

    column: Any
    type: FieldType = FieldType.STRING
    membership: Callable[[Callable[[Any], Clause]], Clause] | None = None


@dataclass(frozen=True)
class Condition:
    name: str
    op: Op
    value: Any = None


@dataclass
class QueryRequest:
    conditions: list[Condition] = field(default_factory=list)
    limit: int = 1000
    start: int = 0
    count: bool = False
    reply_with_count: bool = False
    sort_by: str | None = None
    sort_ascending: bool = True
    fields: list[str] | None = None


InventoryBuilder = Callable[[DbSession, Sequence[Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class QueryDef:
    """What one query API may filter, sort and return."""

    inventory_class: str
    entity: Any
    fields: Mapping[str, QueryField]
    default_order: InstrumentedAttribute[Any]
    to_inventories: InventoryBuilder
    inventory_fields: frozenset[str]


def _typed(name: str, kind: FieldType, raw: Any) -> Any:
    try:
        if kind is FieldType.INT:
            if isinstance(raw, bool):
                raise ValueError
            number = float(raw)
            if number != int(number) or not -MAX_INT64 - 1 <= int(number) <= MAX_INT64:
                raise ValueError
            return int(number)
        if kind is FieldType.BOOL:
            text = str(raw).strip().lower()
            if text not in ("true", "false"):
                raise ValueError
            return text == "true"
        if kind is FieldType.DATE:
            if isinstance(raw, datetime):
                return raw
            return parse_query_date(str(raw))
    except (TypeError, ValueError, OverflowError):
        raise errors.argerr(f"invalid value[{raw}] of query field[{name}], a {kind.value} is expected") from None
    return str(raw)


def _as_list(raw: Any) -> list[Any]:
    if isinstance(raw, (list, tuple)):
        return list(raw)
    items = [item.strip() for item in str(raw).split(",")]
    return items if items != [""] else [""]


def _clause(name: str, spec: QueryField, cond: Condition) -> Clause:
    def test(column: Any) -> Clause:
        op = cond.op
        if op is Op.IS_NULL:
            return column.is_(None)  # type: ignore[no-any-return]
        if op is Op.NOT_NULL:
            return column.is_not(None)  # type: ignore[no-any-return]
        if cond.value is None:
            raise errors.argerr(f"query condition on field[{name}] with operator[{op.value}] needs a value")
        if op in (Op.IN, Op.NOT_IN):
            values = [_typed(name, spec.type, v) for v in _as_list(cond.value)]
            return column.in_(values) if op is Op.IN else column.not_in(values)  # type: ignore[no-any-return]
        if op in (Op.LIKE, Op.NOT_LIKE):
            if spec.type is not FieldType.STRING:  # PostgreSQL has no LIKE on numbers, booleans or dates
                raise errors.argerr(f"operator[{op.value}] needs a string field, field[{name}] is a {spec.type.value}")
            pattern = str(cond.value)
            # Case-insensitive on every database, as on ZStack's MySQL (SQLite's LIKE already is).
            return column.ilike(pattern) if op is Op.LIKE else column.not_ilike(pattern)  # type: ignore[no-any-return]
        value = _typed(name, spec.type, cond.value)
        if spec.type is FieldType.BOOL and op not in (Op.EQ, Op.NE):  # SQL booleans take only = and !=
            raise errors.argerr(f"operator[{op.value}] cannot compare the boolean field[{name}]")
        comparisons: dict[Op, Callable[[Any, Any], Clause]] = {
            Op.EQ: lambda c, v: c == v,
            Op.NE: lambda c, v: c != v,
            Op.GT: lambda c, v: c > v,
            Op.LT: lambda c, v: c < v,
            Op.GE: lambda c, v: c >= v,
            Op.LE: lambda c, v: c <= v,
        }
        return comparisons[op](column, value)

    if spec.membership is not None:
        negated = {Op.NE: Op.EQ, Op.NOT_IN: Op.IN, Op.NOT_LIKE: Op.LIKE}
        if cond.op in negated:
            positive = Condition(cond.name, negated[cond.op], cond.value)
            return not_(_clause(name, spec, positive))
        if cond.op is Op.IS_NULL:
            return not_(spec.membership(lambda c: c.is_not(None)))
        return spec.membership(test)
    return test(spec.column)


def compile_where(qdef: QueryDef, conditions: Sequence[Condition]) -> list[Clause]:
    clauses: list[Clause] = []
    for cond in conditions:
        spec = qdef.fields.get(cond.name)
        if spec is None:
            raise errors.argerr(f"unknown query field[{cond.name}], queryable fields are {sorted(qdef.fields)}")
        clauses.append(_clause(cond.name, spec, cond))
    return clauses


def run_query(
    session: DbSession, qdef: QueryDef, request: QueryRequest, *, visibility: Clause | None
) -> dict[str, Any]:
    """The reply body of a ZStack query API: ``inventories`` and/or ``total``."""
    where = compile_where(qdef, request.conditions)
    if visibility is not None:
        where.append(visibility)
    condition = and_(*where) if where else None
    if request.fields is not None:
        unknown = [f for f in request.fields if f not in qdef.inventory_fields]
        if unknown:
            raise errors.argerr(f"invalid fields{unknown}, they are not fields of {qdef.inventory_class}")
    if request.limit < 0 or request.start < 0:
        raise errors.argerr("limit and start must not be negative")
    if request.limit > MAX_INT32 or request.start > MAX_INT32:  # Java Integers; larger ones overflow the SQL
        raise errors.argerr(f"limit and start must not be greater than {MAX_INT32}")

    body: dict[str, Any] = {}
    if request.count or request.reply_with_count:
        count_stmt = select(func.count()).select_from(qdef.entity)
        if condition is not None:
            count_stmt = count_stmt.where(condition)
        body["total"] = session.scalar(count_stmt) or 0
        if request.count:
            return body

    stmt: Select[Any] = select(qdef.entity)
    if condition is not None:
        stmt = stmt.where(condition)
    stmt = stmt.order_by(*_order(qdef, request)).limit(request.limit).offset(request.start)
    rows = session.scalars(stmt).all()
    inventories = qdef.to_inventories(session, rows)
    if request.fields is not None:
        keep = set(request.fields)
        inventories = [{k: v for k, v in inv.items() if k in keep} for inv in inventories]
    body["inventories"] = inventories
    return body


def _order(qdef: QueryDef, request: QueryRequest) -> list[Any]:
    if request.sort_by is None:
        return [qdef.default_order]
    spec = qdef.fields.get(request.sort_by)
    if spec is None or spec.membership is not None:
        raise errors.argerr(f"cannot sort by field[{request.sort_by}] of {qdef.inventory_class}")
    column = spec.column
    primary = column.asc() if request.sort_ascending else column.desc()
    return [primary, qdef.default_order]


def or_all(clauses: Sequence[Clause]) -> Clause:
    return or_(*clauses)
