"""SQLAlchemy rows. Column names follow ZStack's VO fields; no business rules live here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

UUID = String(32)
NAME = String(255)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Dated:
    create_date: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_op_date: Mapped[datetime] = mapped_column(DateTime, nullable=False)


# --- identity -------------------------------------------------------------------------------------


class Account(Dated, Base):
    __tablename__ = "accounts"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    type: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(255))


class Session(Base):
    __tablename__ = "sessions"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    account_uuid: Mapped[str] = mapped_column(UUID)
    user_uuid: Mapped[str] = mapped_column(UUID, index=True)
    user_type: Mapped[str] = mapped_column(String(32))
    project_uuid: Mapped[str | None] = mapped_column(UUID)
    create_date: Mapped[datetime] = mapped_column(DateTime)
    expired_date: Mapped[datetime] = mapped_column(DateTime, index=True)


class LoginFailure(Base):
    """Failed logins per user name, for throttling."""

    __tablename__ = "login_failures"
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure: Mapped[datetime] = mapped_column(DateTime)


class Project(Dated, Base):
    __tablename__ = "iam2_projects"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(32))
    linked_account_uuid: Mapped[str] = mapped_column(UUID)
    attributes: Mapped[str] = mapped_column(Text, default="[]")


class VirtualID(Dated, Base):
    __tablename__ = "iam2_virtual_ids"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))


class VirtualIDAttribute(Dated, Base):
    __tablename__ = "iam2_virtual_id_attributes"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    virtual_id_uuid: Mapped[str] = mapped_column(
        UUID, ForeignKey("iam2_virtual_ids.uuid", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(NAME)
    value: Mapped[str | None] = mapped_column(String(2048))
    type: Mapped[str] = mapped_column(String(32))


class ProjectMember(Base):
    __tablename__ = "iam2_project_members"
    project_uuid: Mapped[str] = mapped_column(
        UUID, ForeignKey("iam2_projects.uuid", ondelete="CASCADE"), primary_key=True
    )
    virtual_id_uuid: Mapped[str] = mapped_column(
        UUID, ForeignKey("iam2_virtual_ids.uuid", ondelete="CASCADE"), primary_key=True, index=True
    )
    create_date: Mapped[datetime] = mapped_column(DateTime)


# --- async API jobs -------------------------------------------------------------------------------


class ApiJob(Base):
    """A finished async API call; the poll endpoints read it from any process."""

    __tablename__ = "api_jobs"
    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    api_name: Mapped[str] = mapped_column(String(255))
    success: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[str] = mapped_column(Text)
    create_date: Mapped[datetime] = mapped_column(DateTime, index=True)


# --- tickets --------------------------------------------------------------------------------------


class TicketType(Dated, Base):
    __tablename__ = "ticket_types"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    type: Mapped[str] = mapped_column(NAME)
    description: Mapped[str | None] = mapped_column(Text)
    requests: Mapped[str] = mapped_column(String(2048))
    admin_only: Mapped[bool] = mapped_column(Boolean)


class FlowCollection(Dated, Base):
    __tablename__ = "ticket_flow_collections"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str | None] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    project_uuid: Mapped[str | None] = mapped_column(UUID, index=True)


class TicketTypeCollectionRef(Base):
    __tablename__ = "ticket_type_collection_refs"
    ticket_type_uuid: Mapped[str] = mapped_column(
        UUID, ForeignKey("ticket_types.uuid", ondelete="CASCADE"), primary_key=True
    )
    ticket_flow_collection_uuid: Mapped[str] = mapped_column(
        UUID, ForeignKey("ticket_flow_collections.uuid", ondelete="CASCADE"), primary_key=True, index=True
    )
    create_date: Mapped[datetime] = mapped_column(DateTime)
    last_op_date: Mapped[datetime] = mapped_column(DateTime)


class Flow(Dated, Base):
    __tablename__ = "ticket_flows"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str | None] = mapped_column(Text)
    collection_uuid: Mapped[str] = mapped_column(UUID, ForeignKey("ticket_flow_collections.uuid", ondelete="CASCADE"))
    parent_flow_uuid: Mapped[str | None] = mapped_column(UUID)
    flow_context: Mapped[str] = mapped_column(Text)
    flow_context_type: Mapped[str] = mapped_column(String(255))
    approver_uuid: Mapped[str] = mapped_column(UUID, index=True)
    approver_title: Mapped[str | None] = mapped_column(String(64))
    valid: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_ticket_flows_chain", "collection_uuid", "parent_flow_uuid"),)


class Ticket(Dated, Base):
    __tablename__ = "tickets"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    requests: Mapped[str] = mapped_column(Text)
    account_system_type: Mapped[str] = mapped_column(String(32))
    account_system_context: Mapped[str] = mapped_column(Text)
    account_uuid: Mapped[str] = mapped_column(UUID)
    project_uuid: Mapped[str] = mapped_column(UUID)
    virtual_id_uuid: Mapped[str] = mapped_column(UUID)
    flow_collection_uuid: Mapped[str] = mapped_column(UUID)
    current_flow_uuid: Mapped[str | None] = mapped_column(UUID)
    ticket_type_uuid: Mapped[str | None] = mapped_column(UUID, ForeignKey("ticket_types.uuid", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(Integer, default=0)

    # Each branch of the visibility filter (submitter, approved collection, admin project) has an
    # index that also covers the usual status and createDate conditions, so a non-admin query is a
    # union of short index ranges instead of a scan of every ticket with that status.
    __table_args__ = (
        Index("ix_tickets_status_create", "status", "create_date"),
        Index("ix_tickets_create", "create_date"),
        Index("ix_tickets_project_status_create", "project_uuid", "status", "create_date"),
        Index("ix_tickets_submitter_status_create", "virtual_id_uuid", "status", "create_date"),
        Index("ix_tickets_collection_status_create", "flow_collection_uuid", "status", "create_date"),
    )


class TicketStatusHistory(Dated, Base):
    __tablename__ = "ticket_status_histories"
    sequence: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    uuid: Mapped[str] = mapped_column(UUID, unique=True)
    ticket_uuid: Mapped[str] = mapped_column(UUID, ForeignKey("tickets.uuid", ondelete="CASCADE"))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    operator_uuid: Mapped[str] = mapped_column(UUID)
    operator_type: Mapped[str] = mapped_column(String(32))
    operation_context: Mapped[str | None] = mapped_column(Text)
    operation_context_type: Mapped[str] = mapped_column(String(64))
    flow_name: Mapped[str | None] = mapped_column(NAME)

    __table_args__ = (Index("ix_ticket_status_histories_ticket", "ticket_uuid", "sequence"),)


class ArchiveTicket(Dated, Base):
    __tablename__ = "archive_tickets"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    ticket_uuid: Mapped[str] = mapped_column(UUID, index=True)
    account_uuid: Mapped[str] = mapped_column(UUID)
    name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    requests: Mapped[str] = mapped_column(Text)
    account_system_type: Mapped[str] = mapped_column(String(32))
    account_system_context: Mapped[str] = mapped_column(Text)
    project_uuid: Mapped[str] = mapped_column(UUID, index=True)
    virtual_id_uuid: Mapped[str] = mapped_column(UUID, index=True)
    flow_collection_uuid: Mapped[str] = mapped_column(UUID)
    current_flow_uuid: Mapped[str | None] = mapped_column(UUID)
    ticket_type_uuid: Mapped[str | None] = mapped_column(UUID)


class ArchiveTicketStatusHistory(Dated, Base):
    __tablename__ = "archive_ticket_status_histories"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    history_uuid: Mapped[str] = mapped_column(UUID)
    ticket_uuid: Mapped[str] = mapped_column(UUID, index=True)
    account_uuid: Mapped[str] = mapped_column(UUID)
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    operator_uuid: Mapped[str] = mapped_column(UUID)
    operator_type: Mapped[str] = mapped_column(String(32))
    operation_context: Mapped[str | None] = mapped_column(Text)
    operation_context_type: Mapped[str] = mapped_column(String(64))
    flow_name: Mapped[str | None] = mapped_column(NAME)


# --- execution of approved tickets (the outbox) ---------------------------------------------------


class TicketExecution(Base):
    """One call of one request of a FinalApproved ticket, written in the approving transaction."""

    __tablename__ = "ticket_executions"
    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    ticket_uuid: Mapped[str] = mapped_column(UUID, ForeignKey("tickets.uuid", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    request_index: Mapped[int] = mapped_column(Integer)
    execution_number: Mapped[int] = mapped_column(Integer)
    request_name: Mapped[str | None] = mapped_column(NAME)
    api_name: Mapped[str] = mapped_column(NAME)
    api_body: Mapped[str] = mapped_column(Text)
    project_uuid: Mapped[str] = mapped_column(UUID)
    job_uuid: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_date: Mapped[datetime] = mapped_column(DateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expired_date: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_date: Mapped[datetime | None] = mapped_column(DateTime)
    finished_date: Mapped[datetime | None] = mapped_column(DateTime)
    create_date: Mapped[datetime] = mapped_column(DateTime)
    last_op_date: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_ticket_executions_due", "state", "next_attempt_date"),
        Index("ix_ticket_executions_ticket", "ticket_uuid", "revision", "request_index", "execution_number"),
    )
