"""Validation of a ticket request's ``apiBody`` against the target API (spec §5.2 steps 7-8).

Only what the Java SDK marks for each API is checked: the body must be an object that could
build the message. The registry is data, so that new ticket types add a row, not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zsticket.domain import errors


@dataclass(frozen=True)
class BodyField:
    name: str
    kind: type | tuple[type, ...]
    required: bool = False
    max_length: int | None = None
    valid_values: tuple[str, ...] | None = None
    nonempty: bool = False


@dataclass(frozen=True)
class ApiBodySchema:
    api_name: str
    fields: tuple[BodyField, ...]


API_BODY_SCHEMAS: dict[str, ApiBodySchema] = {
    schema.api_name: schema
    for schema in (
        ApiBodySchema(
            api_name="org.zstack.header.vm.APICreateVmInstanceMsg",
            fields=(
                BodyField("name", str, required=True, max_length=255),
                BodyField("instanceOfferingUuid", str),
                BodyField("imageUuid", str),
                BodyField("l3NetworkUuids", list, required=True, nonempty=True),
                BodyField("type", str, valid_values=("UserVm", "ApplianceVm")),
                BodyField("rootDiskOfferingUuid", str),
                BodyField("dataDiskOfferingUuids", list),
                BodyField("zoneUuid", str),
                BodyField("clusterUuid", str),
                BodyField("hostUuid", str),
                BodyField("primaryStorageUuidForRootVolume", str),
                BodyField("description", str, max_length=2048),
                BodyField("defaultL3NetworkUuid", str),
                BodyField("strategy", str, valid_values=("InstantStart", "JustCreate", "CreateStopped")),
                BodyField("cpuNum", (int, float)),
                BodyField("memorySize", (int, float)),
            ),
        ),
    )
}


def _check_field(field: BodyField, value: Any) -> str | None:
    if value is None:
        return f"field[{field.name}] is mandatory" if field.required else None
    if isinstance(value, bool) or not isinstance(value, field.kind):
        return f"field[{field.name}] has a wrong type"
    if field.max_length is not None and isinstance(value, str) and len(value) > field.max_length:
        return f"field[{field.name}] exceeds max length {field.max_length}"
    if field.valid_values is not None and value not in field.valid_values:
        return f"field[{field.name}] must be one of {list(field.valid_values)}"
    if field.nonempty and not value:
        return f"field[{field.name}] must be a nonempty list"
    return None


def check_api_body(api_name: str, body: Any) -> None:
    """Raise spec error 9 for an unknown API, error 10 when ``body`` cannot build the message."""
    schema = API_BODY_SCHEMAS.get(api_name)
    if schema is None:
        raise errors.unknown_api(api_name)
    if not isinstance(body, dict):
        raise errors.bad_api_body(api_name, "apiBody must be a JSON object")
    for field in schema.fields:
        problem = _check_field(field, body.get(field.name))
        if problem is not None:
            raise errors.bad_api_body(api_name, problem)
