"""API parameter schemas with ZStack's validation rules and messages.

ZStack validates each ``@APIParam`` (required, maxLength, validValues, nonempty lists, number
ranges) and reports exact texts (``field[name] of message[...] is mandatory, can not be null``).
A small declarative checker reproduces those texts; a generic model library would not.
Values arrive as JSON (REST bodies, RPC) or as strings (query strings), so scalars are coerced
the way ZStack's ``TypeVerifier`` does: ints from integral numbers or digit strings, booleans
case-insensitively. An empty string counts as absent for optional fields (Go SDK).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from zsticket.domain import errors
from zsticket.domain.identifiers import ANY_UUID

MAX_LIST_ITEMS = 1000


class Kind(Enum):
    STRING = "a string"
    INT = "an integer"
    BOOL = "a boolean"
    LIST = "a list"
    MAP = "an object"
    ANY = "a value"


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind = Kind.STRING
    required: bool = False
    max_length: int | None = None
    valid_values: tuple[str, ...] | None = None
    nonempty: bool = False
    number_range: tuple[int, int] | None = None
    uuid: bool = False
    item_kind: Kind | None = None


def str_param(name: str, **kw: Any) -> Param:
    return Param(name, Kind.STRING, **kw)


def uuid_param(name: str, *, required: bool = False) -> Param:
    return Param(name, Kind.STRING, required=required, uuid=True)


def list_param(name: str, *, item: Kind = Kind.STRING, **kw: Any) -> Param:
    return Param(name, Kind.LIST, item_kind=item, **kw)


TAG_PARAMS = (list_param("systemTags"), list_param("userTags"))


def _coerce_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != int(value):
            raise ValueError
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    raise ValueError


def _coerce_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError


def _coerce_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            # zssdk sends Python reprs such as ['a', 'b'] in query strings.
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise ValueError from None
            if isinstance(parsed, list):
                return parsed
        return [value]
    raise ValueError


def _coerce(param: Param, message: str, value: Any) -> Any:
    kind = param.kind
    try:
        if kind is Kind.STRING:
            if isinstance(value, (dict, list, bool)):
                raise ValueError
            return value if isinstance(value, str) else str(value)
        if kind is Kind.INT:
            return _coerce_int(value)
        if kind is Kind.BOOL:
            return _coerce_bool(value)
        if kind is Kind.LIST:
            items = _coerce_list(value)
            if param.item_kind is Kind.STRING:
                for item in items:
                    if item is not None and not isinstance(item, str):
                        raise ValueError
            if param.item_kind is Kind.MAP:
                for item in items:
                    if item is not None and not isinstance(item, dict):
                        raise ValueError
            return items
        if kind is Kind.MAP:
            if not isinstance(value, dict):
                raise ValueError
            return value
    except ValueError:
        raise errors.wrong_type(param.name, message, kind.value, value) from None
    return value


def validate(params: tuple[Param, ...], message: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Checked and coerced fields of ``raw``; unknown fields are dropped, as Gson ignores them."""
    clean: dict[str, Any] = {}
    for param in params:
        value = raw.get(param.name)
        if isinstance(value, str) and value == "" and not param.required:
            value = None
        if value is None:
            if param.required:
                raise errors.mandatory(param.name, message)
            continue
        value = _coerce(param, message, value)
        _check(param, message, value)
        clean[param.name] = value
    return clean


def _check(param: Param, message: str, value: Any) -> None:
    if isinstance(value, str):
        if param.required and value.strip() == "" and param.kind is Kind.STRING:
            raise errors.empty_string(param.name)
        if param.max_length is not None and len(value) > param.max_length:
            raise errors.too_long(param.name, message, param.max_length, len(value))
        if param.valid_values is not None and value not in param.valid_values:
            raise errors.invalid_value_choice(param.name, message, list(param.valid_values), value)
        if param.uuid and not ANY_UUID.match(value):
            raise errors.invalid_uuid_value(param.name, value)
    if isinstance(value, list):
        if param.nonempty and not value:
            raise errors.nonempty_list(param.name)
        if any(item is None for item in value):
            raise errors.null_element(param.name)
        if len(value) > MAX_LIST_ITEMS:
            raise errors.argerr(f"field[{param.name}] has more than {MAX_LIST_ITEMS} elements")
        if param.item_kind is Kind.STRING:
            for item in value:
                if len(item) > 2048:
                    raise errors.too_long(param.name, message, 2048, len(item))
    if isinstance(value, int) and not isinstance(value, bool) and param.number_range is not None:
        low, high = param.number_range
        if not low <= value <= high:
            raise errors.out_of_range(param.name, low, high)
