"""One row of the API table: everything both wire protocols need to know about an API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.orm import Session as DbSession

from zsticket.domain.approval import Operator
from zsticket.messages.params import TAG_PARAMS, Param
from zsticket.services.context import Handler
from zsticket.store.query_engine import Clause, QueryDef


class ApiKind(Enum):
    ASYNC = "async"  # 202 + api-jobs polling
    SYNC = "sync"  # answered directly
    QUERY = "query"  # answered directly from the query engine


class Policy(Enum):
    NONE = "none"  # no session (login, logout, validate)
    SESSION = "session"  # any valid session; the handler checks finer rules


Visibility = Callable[[Operator, DbSession], Clause | None]


@dataclass(frozen=True)
class ApiSpec:
    class_name: str
    method: str
    path: str
    kind: ApiKind
    wrapper: str | None = None
    params: tuple[Param, ...] = ()
    handler: Handler | None = None
    policy: Policy = Policy.SESSION
    optional_paths: tuple[str, ...] = ()
    query: QueryDef | None = None
    visibility: Visibility | None = None
    writes: bool = True

    @property
    def simple_name(self) -> str:
        return self.class_name.rsplit(".", 1)[-1]

    @property
    def reply_class(self) -> str:
        """``...APIXxxMsg`` becomes ``...APIXxxEvent`` (async) or ``...APIXxxReply``."""
        suffix = "Event" if self.kind is ApiKind.ASYNC else "Reply"
        base = self.class_name[: -len("Msg")] if self.class_name.endswith("Msg") else self.class_name
        return base + suffix

    @property
    def all_params(self) -> tuple[Param, ...]:
        return self.params + TAG_PARAMS
