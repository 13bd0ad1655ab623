"""IAM2 virtual IDs and their attributes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from zsticket.domain import errors
from zsticket.services import approver_loss
from zsticket.services.context import CallContext, Reply
from zsticket.services.identity_rules import get_project, get_virtual_id
from zsticket.services.ids import new_uuid, resource_uuid
from zsticket.services.passwords import hash_password, verify_password
from zsticket.store.tables import ProjectMember, Session, VirtualID, VirtualIDAttribute

VID_STATE_EVENTS = {"enable": "Enabled", "disable": "Disabled"}


def attribute_inventory(row: VirtualIDAttribute) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "name": row.name,
        "value": row.value,
        "type": row.type,
        "virtualIDUuid": row.virtual_id_uuid,
        "createDate": row.create_date,
        "lastOpDate": row.last_op_date,
    }


def virtual_id_inventory(row: VirtualID, attributes: list[VirtualIDAttribute]) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "name": row.name,
        "description": row.description,
        "type": row.type,
        "state": row.state,
        "createDate": row.create_date,
        "lastOpDate": row.last_op_date,
        "attributes": [attribute_inventory(a) for a in attributes],
    }


def _attributes_of(ctx: CallContext, vid_uuid: str) -> list[VirtualIDAttribute]:
    return list(
        ctx.db.scalars(
            select(VirtualIDAttribute)
            .where(VirtualIDAttribute.virtual_id_uuid == vid_uuid)
            .order_by(VirtualIDAttribute.create_date, VirtualIDAttribute.uuid)
        )
    )


def _inventory(ctx: CallContext, row: VirtualID) -> Reply:
    ctx.db.flush()
    return {"inventory": virtual_id_inventory(row, _attributes_of(ctx, row.uuid))}


def _add_attributes(ctx: CallContext, vid_uuid: str, raw: list[dict[str, Any]]) -> None:
    for item in raw:
        if not isinstance(item, dict) or not item.get("name"):
            raise errors.argerr("every attribute needs a name")
        name = str(item["name"])
        value = None if item.get("value") is None else str(item["value"])
        if len(name) > 255 or (value is not None and len(value) > 2048):  # the columns' sizes
            raise errors.argerr("an attribute name must be at most 255 characters and its value at most 2048")
        ctx.db.add(
            VirtualIDAttribute(
                uuid=new_uuid(),
                virtual_id_uuid=vid_uuid,
                name=name,
                value=value,
                type="System" if name.startswith("__") else "Customized",
                create_date=ctx.now,
                last_op_date=ctx.now,
            )
        )


def create_iam2_virtual_id(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    uuid = resource_uuid(ctx.db, VirtualID, msg.get("resourceUuid"), vo="IAM2VirtualIDVO")
    if ctx.db.scalar(select(VirtualID.uuid).where(VirtualID.name == msg["name"])) is not None:
        raise errors.name_taken("IAM2VirtualIDVO", msg["name"])
    row = VirtualID(
        uuid=uuid,
        name=msg["name"],
        description=msg.get("description"),
        type="ZStack",
        state="Enabled",
        password_hash=hash_password(msg["password"], cost=ctx.settings.password_hash_cost),
        create_date=ctx.now,
        last_op_date=ctx.now,
    )
    ctx.db.add(row)
    ctx.db.flush()
    _add_attributes(ctx, uuid, msg.get("attributes", []))
    if "projectUuid" in msg:
        project = get_project(ctx.db, msg["projectUuid"], field="projectUuid")
        ctx.db.add(ProjectMember(project_uuid=project.uuid, virtual_id_uuid=uuid, create_date=ctx.now))
    return _inventory(ctx, row)


def update_iam2_virtual_id(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    """The admin updates anyone; a virtual ID may update itself, proving its old password."""
    caller = ctx.caller
    row = get_virtual_id(ctx.db, msg["uuid"])
    if not caller.is_admin:
        if caller.uuid != row.uuid:
            raise errors.admin_only(ctx.api)
        if "password" in msg and not verify_password(msg.get("oldPassword", ""), row.password_hash):
            raise errors.ZStackError(errors.AUTHENTICATION_ERROR, "old password is wrong")
    if "name" in msg and msg["name"] != row.name:
        if ctx.db.scalar(select(VirtualID.uuid).where(VirtualID.name == msg["name"])) is not None:
            raise errors.name_taken("IAM2VirtualIDVO", msg["name"])
        row.name = msg["name"]
    if "description" in msg:
        row.description = msg["description"]
    if "password" in msg:
        row.password_hash = hash_password(msg["password"], cost=ctx.settings.password_hash_cost)
        ctx.db.execute(delete(Session).where(Session.user_uuid == row.uuid, Session.uuid != ctx.session_uuid))
    row.last_op_date = ctx.now
    return _inventory(ctx, row)


def change_iam2_virtual_id_state(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    row = get_virtual_id(ctx.db, msg["uuid"])
    row.state = VID_STATE_EVENTS[msg["stateEvent"]]
    row.last_op_date = ctx.now
    return _inventory(ctx, row)


def delete_iam2_virtual_id(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    """Deletes the virtual ID; flows naming it become invalid and their tickets are rejected (§5.8)."""
    ctx.require_admin()
    row = ctx.db.get(VirtualID, msg["uuid"])
    if row is None:
        return {}
    approver_loss.on_approver_deleted(ctx, vid_uuid=row.uuid)
    ctx.db.execute(delete(Session).where(Session.user_uuid == row.uuid))
    ctx.db.delete(row)
    return {}


def add_attributes_to_iam2_virtual_id(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    row = get_virtual_id(ctx.db, msg["uuid"])
    _add_attributes(ctx, row.uuid, msg["attributes"])
    row.last_op_date = ctx.now
    return _inventory(ctx, row)


def remove_attributes_from_iam2_virtual_id(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    row = get_virtual_id(ctx.db, msg["uuid"])
    ctx.db.execute(
        delete(VirtualIDAttribute).where(
            VirtualIDAttribute.virtual_id_uuid == row.uuid,
            VirtualIDAttribute.uuid.in_(msg["attributeUuids"]),
        )
    )
    row.last_op_date = ctx.now
    return {}
