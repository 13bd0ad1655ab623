"""What a handler gets: the open transaction, the caller, the settings and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session as DbSession

from zsticket.domain import errors
from zsticket.domain.approval import ApprovalPolicy, Operator
from zsticket.settings import Settings


@dataclass
class CallContext:
    db: DbSession
    settings: Settings
    now: datetime
    api: str
    operator: Operator | None = None
    session_uuid: str | None = None
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    wake_executions: Callable[[], None] = lambda: None

    @property
    def caller(self) -> Operator:
        """The authenticated operator; APIs without a session never ask for it."""
        if self.operator is None:
            raise errors.session_missing()
        return self.operator

    @property
    def approval_policy(self) -> ApprovalPolicy:
        return ApprovalPolicy(
            admin_can_act_on_any_step=self.settings.admin_can_act_on_any_step,
            allow_self_approval=self.settings.allow_self_approval,
        )

    def require_admin(self) -> None:
        if not self.caller.is_admin:
            raise errors.admin_only(self.api)


Reply = dict[str, Any]
Handler = Callable[[CallContext, dict[str, Any]], Reply]
