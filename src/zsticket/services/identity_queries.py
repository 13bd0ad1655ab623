"""Query definitions of projects, virtual IDs and attributes, and who may see them.

Admin sees everything; a virtual ID sees its projects, itself and the members of its projects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session as DbSession

from zsticket.domain.approval import Operator
from zsticket.services.projects import project_inventory
from zsticket.services.virtual_ids import attribute_inventory, virtual_id_inventory
from zsticket.store.query_engine import Clause, FieldType, QueryDef, QueryField
from zsticket.store.tables import Project, ProjectMember, VirtualID, VirtualIDAttribute

DATE = FieldType.DATE


def _my_projects(operator: Operator) -> Any:
    return select(ProjectMember.project_uuid).where(ProjectMember.virtual_id_uuid == operator.uuid)


def project_visibility(operator: Operator, _db: DbSession) -> Clause | None:
    return None if operator.is_admin else Project.uuid.in_(_my_projects(operator))


def _visible_vids(operator: Operator) -> Any:
    co_members = select(ProjectMember.virtual_id_uuid).where(ProjectMember.project_uuid.in_(_my_projects(operator)))
    return or_(VirtualID.uuid == operator.uuid, VirtualID.uuid.in_(co_members))


def virtual_id_visibility(operator: Operator, _db: DbSession) -> Clause | None:
    return None if operator.is_admin else _visible_vids(operator)


def attribute_visibility(operator: Operator, _db: DbSession) -> Clause | None:
    if operator.is_admin:
        return None
    return VirtualIDAttribute.virtual_id_uuid.in_(select(VirtualID.uuid).where(_visible_vids(operator)))


def _project_inventories(_db: DbSession, rows: Sequence[Project]) -> list[dict[str, Any]]:
    return [project_inventory(row) for row in rows]


def _virtual_id_inventories(db: DbSession, rows: Sequence[VirtualID]) -> list[dict[str, Any]]:
    attributes: dict[str, list[VirtualIDAttribute]] = defaultdict(list)
    uuids = [row.uuid for row in rows]
    if uuids:
        for attribute in db.scalars(
            select(VirtualIDAttribute)
            .where(VirtualIDAttribute.virtual_id_uuid.in_(uuids))
            .order_by(VirtualIDAttribute.create_date, VirtualIDAttribute.uuid)
        ):
            attributes[attribute.virtual_id_uuid].append(attribute)
    return [virtual_id_inventory(row, attributes[row.uuid]) for row in rows]


def _attribute_inventories(_db: DbSession, rows: Sequence[VirtualIDAttribute]) -> list[dict[str, Any]]:
    return [attribute_inventory(row) for row in rows]


def _in_project(test: Any) -> Clause:
    return VirtualID.uuid.in_(select(ProjectMember.virtual_id_uuid).where(test(ProjectMember.project_uuid)))


def _has_attribute_name(test: Any) -> Clause:
    return VirtualID.uuid.in_(select(VirtualIDAttribute.virtual_id_uuid).where(test(VirtualIDAttribute.name)))


def _has_member(test: Any) -> Clause:
    return Project.uuid.in_(select(ProjectMember.project_uuid).where(test(ProjectMember.virtual_id_uuid)))


QUERY_IAM2_PROJECT = QueryDef(
    inventory_class="org.zstack.iam2.entity.IAM2ProjectInventory",
    entity=Project,
    fields={
        "uuid": QueryField(Project.uuid),
        "name": QueryField(Project.name),
        "description": QueryField(Project.description),
        "state": QueryField(Project.state),
        "linkedAccountUuid": QueryField(Project.linked_account_uuid),
        "virtualIDs.uuid": QueryField(None, membership=_has_member),
        "createDate": QueryField(Project.create_date, DATE),
        "lastOpDate": QueryField(Project.last_op_date, DATE),
    },
    default_order=Project.uuid,
    to_inventories=_project_inventories,
    inventory_fields=frozenset(
        {"uuid", "name", "description", "state", "createDate", "lastOpDate", "attributes", "linkedAccountUuid"}
    ),
)

QUERY_IAM2_VIRTUAL_ID = QueryDef(
    inventory_class="org.zstack.iam2.entity.IAM2VirtualIDInventory",
    entity=VirtualID,
    fields={
        "uuid": QueryField(VirtualID.uuid),
        "name": QueryField(VirtualID.name),
        "description": QueryField(VirtualID.description),
        "type": QueryField(VirtualID.type),
        "state": QueryField(VirtualID.state),
        "projects.uuid": QueryField(None, membership=_in_project),
        "attributes.name": QueryField(None, membership=_has_attribute_name),
        "createDate": QueryField(VirtualID.create_date, DATE),
        "lastOpDate": QueryField(VirtualID.last_op_date, DATE),
    },
    default_order=VirtualID.uuid,
    to_inventories=_virtual_id_inventories,
    inventory_fields=frozenset(
        {"uuid", "name", "description", "type", "state", "createDate", "lastOpDate", "attributes"}
    ),
)

QUERY_IAM2_VIRTUAL_ID_ATTRIBUTE = QueryDef(
    inventory_class="org.zstack.iam2.entity.IAM2VirtualIDAttributeInventory",
    entity=VirtualIDAttribute,
    fields={
        "uuid": QueryField(VirtualIDAttribute.uuid),
        "name": QueryField(VirtualIDAttribute.name),
        "value": QueryField(VirtualIDAttribute.value),
        "type": QueryField(VirtualIDAttribute.type),
        "virtualIDUuid": QueryField(VirtualIDAttribute.virtual_id_uuid),
        "createDate": QueryField(VirtualIDAttribute.create_date, DATE),
        "lastOpDate": QueryField(VirtualIDAttribute.last_op_date, DATE),
    },
    default_order=VirtualIDAttribute.uuid,
    to_inventories=_attribute_inventories,
    inventory_fields=frozenset({"uuid", "name", "value", "type", "virtualIDUuid", "createDate", "lastOpDate"}),
)
