"""Shared identity look-ups: existence checks, project admins, privileged approvers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from zsticket.domain import errors
from zsticket.domain.approval import ADMIN_ACCOUNT_UUID
from zsticket.services.context import CallContext
from zsticket.store.tables import Project, ProjectMember, VirtualID, VirtualIDAttribute

PROJECT_ADMIN_ATTRIBUTE = "__ProjectAdmin__"


def get_project(db: DbSession, uuid: str, *, field: str = "uuid") -> Project:
    project = db.get(Project, uuid)
    if project is None:
        raise errors.not_found(field, uuid, "IAM2ProjectVO")
    return project


def get_virtual_id(db: DbSession, uuid: str, *, field: str = "uuid") -> VirtualID:
    vid = db.get(VirtualID, uuid)
    if vid is None:
        raise errors.not_found(field, uuid, "IAM2VirtualIDVO")
    return vid


def check_virtual_ids_exist(db: DbSession, uuids: Sequence[str], *, field: str) -> None:
    found = set(db.scalars(select(VirtualID.uuid).where(VirtualID.uuid.in_(uuids))))
    missing = [u for u in uuids if u not in found]
    if missing:
        raise errors.not_found_many(field, missing, "IAM2VirtualIDVO")


def is_project_admin(db: DbSession, vid_uuid: str, project_uuid: str) -> bool:
    return (
        db.scalar(
            select(VirtualIDAttribute.uuid).where(
                VirtualIDAttribute.virtual_id_uuid == vid_uuid,
                VirtualIDAttribute.name == PROJECT_ADMIN_ATTRIBUTE,
                VirtualIDAttribute.value == project_uuid,
            )
        )
        is not None
    )


def require_admin_or_project_admin(ctx: CallContext, project_uuid: str) -> None:
    """Identity changes are the admin's; a project admin may manage its own project's members."""
    caller = ctx.caller
    if caller.is_admin:
        return
    if is_project_admin(ctx.db, caller.uuid, project_uuid):
        return
    raise errors.permission_denied(
        f"operation denied. only admin or the project admin of project[uuid:{project_uuid}] can do this"
    )


def is_member(db: DbSession, vid_uuid: str, project_uuid: str) -> bool:
    return db.get(ProjectMember, (project_uuid, vid_uuid)) is not None


def is_privileged_approver(db: DbSession, approver_uuid: str, attributes: Sequence[str]) -> bool:
    """Admin, or a virtual ID holding one of the configured platform attributes (spec §6.2)."""
    if approver_uuid == ADMIN_ACCOUNT_UUID:
        return True
    return (
        db.scalar(
            select(VirtualIDAttribute.uuid).where(
                VirtualIDAttribute.virtual_id_uuid == approver_uuid,
                VirtualIDAttribute.name.in_(list(attributes)),
            )
        )
        is not None
    )
