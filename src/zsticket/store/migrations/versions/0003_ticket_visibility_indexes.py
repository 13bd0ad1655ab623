"""ticket indexes per visibility branch, covering status and createDate

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW = {
    "ix_tickets_project_status_create": ["project_uuid", "status", "create_date"],
    "ix_tickets_submitter_status_create": ["virtual_id_uuid", "status", "create_date"],
    "ix_tickets_collection_status_create": ["flow_collection_uuid", "status", "create_date"],
}
OLD = {
    "ix_tickets_project_create": ["project_uuid", "create_date"],
    "ix_tickets_submitter_create": ["virtual_id_uuid", "create_date"],
    "ix_tickets_flow_collection_uuid": ["flow_collection_uuid"],
}


def upgrade() -> None:
    for name, columns in NEW.items():
        op.create_index(name, "tickets", columns)
    for name in OLD:
        op.drop_index(name, table_name="tickets")


def downgrade() -> None:
    for name, columns in OLD.items():
        op.create_index(name, "tickets", columns)
    for name in NEW:
        op.drop_index(name, table_name="tickets")
