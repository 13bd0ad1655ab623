"""IAM2 projects and their members."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select

from zsticket.domain import errors
from zsticket.services import approver_loss
from zsticket.services.context import CallContext, Reply
from zsticket.services.identity_rules import (
    check_virtual_ids_exist,
    get_project,
    require_admin_or_project_admin,
)
from zsticket.services.ids import new_uuid, resource_uuid
from zsticket.services.ticket_records import archive_ticket
from zsticket.store.tables import Account, FlowCollection, Project, ProjectMember, Ticket

PROJECT_STATE_EVENTS = {"enable": "Enabled", "disable": "Disabled"}


def project_inventory(row: Project) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "name": row.name,
        "description": row.description,
        "state": row.state,
        "createDate": row.create_date,
        "lastOpDate": row.last_op_date,
        "attributes": json.loads(row.attributes),
        "linkedAccountUuid": row.linked_account_uuid,
    }


def _normalise_attributes(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    attributes = []
    for item in raw:
        if not isinstance(item, dict) or not item.get("name"):
            raise errors.argerr("every attribute needs a name")
        attributes.append({"name": str(item["name"]), "value": item.get("value")})
    return attributes


def _check_name_free(ctx: CallContext, name: str, *, except_uuid: str | None = None) -> None:
    existing = ctx.db.scalar(select(Project.uuid).where(Project.name == name))
    if existing is not None and existing != except_uuid:
        raise errors.name_taken("IAM2ProjectVO", name)


def create_iam2_project(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    uuid = resource_uuid(ctx.db, Project, msg.get("resourceUuid"), vo="IAM2ProjectVO")
    _check_name_free(ctx, msg["name"])
    account = Account(
        uuid=new_uuid(),
        name=f"iam2-project-{uuid}",
        type="Normal",
        password_hash=None,
        create_date=ctx.now,
        last_op_date=ctx.now,
    )
    project = Project(
        uuid=uuid,
        name=msg["name"],
        description=msg.get("description"),
        state="Enabled",
        linked_account_uuid=account.uuid,
        attributes=json.dumps(_normalise_attributes(msg.get("attributes", []))),
        create_date=ctx.now,
        last_op_date=ctx.now,
    )
    ctx.db.add_all([account, project])
    return {"inventory": project_inventory(project)}


def update_iam2_project(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    project = get_project(ctx.db, msg["uuid"])
    if "name" in msg:
        _check_name_free(ctx, msg["name"], except_uuid=project.uuid)
        project.name = msg["name"]
    if "description" in msg:
        project.description = msg["description"]
    project.last_op_date = ctx.now
    return {"inventory": project_inventory(project)}


def change_iam2_project_state(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    ctx.require_admin()
    project = get_project(ctx.db, msg["uuid"])
    project.state = PROJECT_STATE_EVENTS[msg["stateEvent"]]
    project.last_op_date = ctx.now
    return {"inventory": project_inventory(project)}


def delete_iam2_project(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    """Moves the project to ``Deleted``; its tickets can then only be deleted (spec §5.10)."""
    ctx.require_admin()
    project = ctx.db.get(Project, msg["uuid"])
    if project is not None:
        project.state = "Deleted"
        project.last_op_date = ctx.now
    return {}


def expunge_iam2_project(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    """Removes the project for good: its tickets are archived, its collections deleted (spec §5.8)."""
    ctx.require_admin()
    project = ctx.db.get(Project, msg["uuid"])
    if project is None:
        return {}
    for ticket in ctx.db.scalars(select(Ticket).where(Ticket.project_uuid == project.uuid)).all():
        archive_ticket(ctx.db, ticket)
    ctx.db.execute(delete(FlowCollection).where(FlowCollection.project_uuid == project.uuid))
    ctx.db.execute(delete(Account).where(Account.uuid == project.linked_account_uuid))
    ctx.db.delete(project)
    return {}


def add_iam2_virtual_ids_to_project(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    project = get_project(ctx.db, msg["projectUuid"], field="projectUuid")
    require_admin_or_project_admin(ctx, project.uuid)
    uuids = list(dict.fromkeys(msg["virtualIDUuids"]))
    check_virtual_ids_exist(ctx.db, uuids, field="virtualIDUuids")
    present = set(
        ctx.db.scalars(
            select(ProjectMember.virtual_id_uuid).where(
                ProjectMember.project_uuid == project.uuid, ProjectMember.virtual_id_uuid.in_(uuids)
            )
        )
    )
    ctx.db.add_all(
        ProjectMember(project_uuid=project.uuid, virtual_id_uuid=u, create_date=ctx.now)
        for u in uuids
        if u not in present
    )
    return {}


def remove_iam2_virtual_ids_from_project(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    project = get_project(ctx.db, msg["projectUuid"], field="projectUuid")
    require_admin_or_project_admin(ctx, project.uuid)
    uuids = list(dict.fromkeys(msg["virtualIDUuids"]))
    ctx.db.execute(
        delete(ProjectMember).where(
            ProjectMember.project_uuid == project.uuid, ProjectMember.virtual_id_uuid.in_(uuids)
        )
    )
    approver_loss.on_approvers_left_project(ctx, vid_uuids=uuids, project_uuid=project.uuid)
    return {}


def get_iam2_projects_of_virtual_id(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    caller = ctx.caller
    rows = ctx.db.scalars(
        select(Project)
        .join(ProjectMember, ProjectMember.project_uuid == Project.uuid)
        .where(ProjectMember.virtual_id_uuid == caller.uuid)
        .order_by(Project.name)
    ).all()
    return {"inventories": [project_inventory(row) for row in rows]}
