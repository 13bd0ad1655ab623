"""Login, logout, session validation and renewal (iam2-identity-subset.md, rest-conventions §3)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from zsticket.domain import errors
from zsticket.domain.approval import Operator, OperatorType
from zsticket.services.context import CallContext, Reply
from zsticket.services.ids import new_uuid
from zsticket.services.passwords import verify_password
from zsticket.settings import Settings
from zsticket.store.tables import Account, LoginFailure, Project, ProjectMember, Session, VirtualID

ENABLED = "Enabled"


class LoginRefused(errors.ZStackError):
    """A failed login whose failure counter must still be committed."""

    keep_changes = True


def session_inventory(row: Session) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "accountUuid": row.account_uuid,
        "userUuid": row.user_uuid,
        "userType": row.user_type,
        "expiredDate": row.expired_date,
        "createDate": row.create_date,
        "noSessionEvaluation": False,
    }


def _throttle_key(kind: str, name: str) -> str:
    """The failure counter's key; it must fit the 255-character column, so long names are digested."""
    key = f"{kind}:{name}"
    return key if len(key) <= 255 else f"{kind}:sha256:{hashlib.sha256(name.encode()).hexdigest()}"


def _check_throttle(ctx: CallContext, name: str) -> None:
    row = ctx.db.get(LoginFailure, name)
    if row is None or row.failures < ctx.settings.login_max_failures:
        return
    unlock = row.last_failure + timedelta(seconds=ctx.settings.login_lockout_seconds)
    if ctx.now < unlock:
        raise errors.login_throttled(int((unlock - ctx.now).total_seconds()) + 1)
    ctx.db.delete(row)
    ctx.db.flush()


def _record_failure(ctx: CallContext, name: str) -> LoginRefused:
    row = ctx.db.get(LoginFailure, name)
    if row is None:
        ctx.db.add(LoginFailure(name=name, failures=1, last_failure=ctx.now))
    else:
        row.failures += 1
        row.last_failure = ctx.now
    failure = errors.wrong_credentials()
    return LoginRefused(failure.code, failure.details)


def _open_session(
    ctx: CallContext, *, account_uuid: str, user_uuid: str, user_type: str, project_uuid: str | None = None
) -> Reply:
    active = ctx.db.scalar(
        select(func.count()).select_from(Session).where(Session.user_uuid == user_uuid, Session.expired_date > ctx.now)
    )
    if (active or 0) >= ctx.settings.max_sessions_per_user:
        raise errors.ZStackError(
            errors.MAX_CONCURRENT_SESSION_EXCEEDED,
            "Login sessions hit limit of max allowed concurrent login sessions",
        )
    row = Session(
        uuid=new_uuid(),
        account_uuid=account_uuid,
        user_uuid=user_uuid,
        user_type=user_type,
        project_uuid=project_uuid,
        create_date=ctx.now,
        expired_date=ctx.now + timedelta(seconds=ctx.settings.session_timeout),
    )
    ctx.db.add(row)
    return {"inventory": session_inventory(row)}


def _clear_failures(ctx: CallContext, name: str) -> None:
    ctx.db.execute(delete(LoginFailure).where(LoginFailure.name == name))


def log_in_by_account(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    name = msg["accountName"]
    throttle_key = _throttle_key("account", name)
    _check_throttle(ctx, throttle_key)
    account = ctx.db.scalar(select(Account).where(Account.name == name))
    if account is None or account.password_hash is None or not verify_password(msg["password"], account.password_hash):
        raise _record_failure(ctx, throttle_key)
    _clear_failures(ctx, throttle_key)
    return _open_session(ctx, account_uuid=account.uuid, user_uuid=account.uuid, user_type="AccountVO")


def login_iam2_virtual_id(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    name = msg["name"]
    throttle_key = _throttle_key("vid", name)
    _check_throttle(ctx, throttle_key)
    vid = ctx.db.scalar(select(VirtualID).where(VirtualID.name == name))
    if vid is None or not verify_password(msg["password"], vid.password_hash):
        raise _record_failure(ctx, throttle_key)
    if vid.state != ENABLED:
        raise errors.ZStackError(errors.AUTHENTICATION_ERROR, f"virtual ID[name:{name}] is {vid.state}")
    _clear_failures(ctx, throttle_key)
    return _open_session(ctx, account_uuid=vid.uuid, user_uuid=vid.uuid, user_type="IAM2VirtualIDVO")


def login_iam2_project(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    operator = ctx.caller
    if operator.type is not OperatorType.VIRTUAL_ID:
        raise errors.operr("only a virtual ID can log in to a project")
    project = ctx.db.scalar(select(Project).where(Project.name == msg["projectName"]))
    if project is None:
        raise errors.operr(f"no project[name:{msg['projectName']}] found")
    if project.state != ENABLED:
        raise errors.project_state(project.uuid, project.state)
    member = ctx.db.get(ProjectMember, (project.uuid, operator.uuid))
    if member is None:
        raise errors.operr(f"virtual ID[uuid:{operator.uuid}] is not a member of project[uuid:{project.uuid}]")
    return _open_session(
        ctx,
        account_uuid=project.linked_account_uuid,
        user_uuid=operator.uuid,
        user_type="IAM2VirtualIDVO",
        project_uuid=project.uuid,
    )


def log_out(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    if msg.get("sessionUuid"):
        ctx.db.execute(delete(Session).where(Session.uuid == msg["sessionUuid"]))
    return {}


def validate_session(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    row = ctx.db.get(Session, msg["sessionUuid"])
    return {"valid": row is not None and row.expired_date > ctx.now}


def renew_session(ctx: CallContext, msg: dict[str, Any]) -> Reply:
    row = ctx.db.get(Session, msg["sessionUuid"])
    if row is None or row.expired_date <= ctx.now:
        raise errors.session_expired()
    if row.user_uuid != ctx.caller.uuid and not ctx.caller.is_admin:
        raise errors.permission_denied("a session can only be renewed by its owner")
    duration = msg.get("duration") or ctx.settings.session_timeout
    row.expired_date = ctx.now + timedelta(seconds=duration)
    return {"inventory": session_inventory(row)}


def authenticate(db: DbSession, session_uuid: str | None, *, now: datetime) -> tuple[Operator, Session]:
    """The operator behind ``session_uuid``, or ``ID.1001``. Expired sessions are deleted when met."""
    if not session_uuid:
        raise errors.session_missing()
    found = db.execute(
        select(Session, VirtualID.state)
        .outerjoin(VirtualID, VirtualID.uuid == Session.user_uuid)
        .where(Session.uuid == session_uuid)
    ).first()
    if found is None:
        raise errors.session_expired()
    row, vid_state = found
    if row.expired_date <= now:
        raise errors.session_expired()
    if row.user_type == "IAM2VirtualIDVO":
        if vid_state is None:
            raise errors.session_expired()
        if vid_state != ENABLED:
            raise errors.virtual_id_disabled(row.user_uuid)
        operator = Operator(
            type=OperatorType.VIRTUAL_ID,
            uuid=row.user_uuid,
            account_uuid=row.account_uuid,
            project_uuid=row.project_uuid,
        )
    else:
        operator = Operator(type=OperatorType.ACCOUNT, uuid=row.user_uuid, account_uuid=row.account_uuid)
    return operator, row


def needs_renewal(row: Session, *, now: datetime, settings: Settings) -> bool:
    """Sliding expiry, written only once the new expiry moved by the renew granularity."""
    target = now + timedelta(seconds=settings.session_timeout)
    return target - row.expired_date >= timedelta(seconds=settings.session_renew_granularity)


def renew(db: DbSession, session_uuid: str, *, now: datetime, settings: Settings) -> None:
    row = db.get(Session, session_uuid)
    if row is not None and row.expired_date > now:
        row.expired_date = now + timedelta(seconds=settings.session_timeout)
