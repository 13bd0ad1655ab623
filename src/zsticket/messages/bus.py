"""The single call path of every API: authenticate, validate, run in one transaction, store the job.

Both wire protocols call :meth:`Bus.call`. An async call's result is written in the same
transaction as its effects, so a poll from any process sees it, and a duplicate ``X-Job-UUID``
that races the first one rolls the second one back.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, OperationalError

from zsticket.domain import errors
from zsticket.messages.params import validate
from zsticket.messages.spec import ApiKind, ApiSpec, Policy
from zsticket.services import sessions
from zsticket.services.context import CallContext
from zsticket.settings import Settings
from zsticket.store.database import Database
from zsticket.store.query_engine import QueryRequest, run_query
from zsticket.store.tables import ApiJob, Session
from zsticket.wire_dates import utcnow
from zsticket.wire_json import dumps

log = logging.getLogger("zsticket.bus")


class DuplicateJob(Exception):
    """The ``X-Job-UUID`` was used before; ZStack answers 400 ``Duplicate job uuid[...]``."""

    def __init__(self, job_uuid: str) -> None:
        super().__init__(f"Duplicate job uuid[{job_uuid}]")
        self.job_uuid = job_uuid


RECENT_JOBS = 2000
TRANSACTION_ATTEMPTS = 3
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def _sqlstate(exc: OperationalError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


@dataclass(frozen=True)
class JobResult:
    api_name: str
    success: bool
    result: str  # the reply body as ZStack JSON
    create_date: datetime


@dataclass(frozen=True)
class Outcome:
    success: bool
    body: dict[str, Any]
    wire: str  # the body as ZStack JSON, exactly as stored for polls


def _outcome(success: bool, body: dict[str, Any]) -> Outcome:
    return Outcome(success, body, dumps(body))


def _failure(error: errors.ZStackError) -> Outcome:
    return _outcome(False, {"error": error.to_error_code()})


class Bus:
    def __init__(
        self, database: Database, settings: Settings, *, wake_executions: Callable[[], None] = lambda: None
    ) -> None:
        self.database = database
        self.settings = settings
        self.wake_executions = wake_executions
        self._recent: OrderedDict[str, JobResult] = OrderedDict()
        self._recent_lock = threading.Lock()

    def recent_job(self, job_uuid: str) -> JobResult | None:
        """A result this process wrote lately, answered without the database (ZStack caches ~2000 too)."""
        with self._recent_lock:
            job = self._recent.get(job_uuid)
        if job is None or job.create_date < utcnow() - timedelta(seconds=self.settings.job_result_ttl):
            return None
        return job

    def find_job(self, job_uuid: str) -> JobResult | None:
        """A stored job result, from the recent-results cache or the database shared by all processes."""
        cached = self.recent_job(job_uuid)
        if cached is not None:
            return cached
        with self.database.transaction(write=False) as db:
            row = db.get(ApiJob, job_uuid)
            job = None if row is None else JobResult(row.api_name, row.success, row.result, row.create_date)
        if job is None or job.create_date < utcnow() - timedelta(seconds=self.settings.job_result_ttl):
            return None
        return job

    def _remember(self, job_uuid: str, job: JobResult) -> None:
        with self._recent_lock:
            self._recent[job_uuid] = job
            while len(self._recent) > RECENT_JOBS:
                self._recent.popitem(last=False)

    def call(
        self,
        spec: ApiSpec,
        msg: dict[str, Any],
        *,
        session_uuid: str | None,
        job_uuid: str | None = None,
        query: QueryRequest | None = None,
    ) -> Outcome:
        """Run one API call; a job uuid (async APIs) records the outcome in the same transaction.

        A reused job uuid is found by the job row's primary key at flush time, which rolls the
        call's effects back: even two racing requests with one id change the database once.
        """
        now = utcnow()
        try:
            return self._run_retrying(spec, msg, session_uuid=session_uuid, job_uuid=job_uuid, query=query, now=now)
        except errors.ZStackError as error:
            outcome = _failure(error)
        except (IntegrityError, OperationalError) as exc:
            if isinstance(exc, OperationalError) and _sqlstate(exc) not in RETRYABLE_SQLSTATES:
                log.exception("api %s job %s failed", spec.simple_name, job_uuid)
                outcome = _failure(errors.internal(f"an internal error happened in API[{spec.simple_name}]"))
            else:
                log.warning("api %s job %s conflicted: %s", spec.simple_name, job_uuid, exc.orig)
                outcome = _failure(errors.operr("the operation conflicts with a concurrent change, retry it"))
        except DuplicateJob:
            raise
        except Exception:
            log.exception("api %s job %s failed", spec.simple_name, job_uuid)
            outcome = _failure(errors.internal(f"an internal error happened in API[{spec.simple_name}]"))
        if job_uuid is not None:
            self._store_job(job_uuid, spec, outcome, now)
        return outcome

    def _run_retrying(self, spec: ApiSpec, msg: dict[str, Any], **kwargs: Any) -> Outcome:
        """PostgreSQL may abort a transaction to break a deadlock; the whole call is then run again."""
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                return self._run(spec, msg, **kwargs)
            except OperationalError as exc:
                if attempt == TRANSACTION_ATTEMPTS or _sqlstate(exc) not in RETRYABLE_SQLSTATES:
                    raise
                log.info("api %s: transaction aborted (%s), run again", spec.simple_name, _sqlstate(exc))
                time.sleep(random.uniform(0.001, 0.01 * attempt))
        raise AssertionError("unreachable")

    def _run(
        self,
        spec: ApiSpec,
        msg: dict[str, Any],
        *,
        session_uuid: str | None,
        job_uuid: str | None,
        query: QueryRequest | None,
        now: datetime,
    ) -> Outcome:
        renew_later = False
        kept_error: errors.ZStackError | None = None
        with self.database.transaction(write=spec.writes) as db:
            ctx = CallContext(
                db=db,
                settings=self.settings,
                now=now,
                api=spec.class_name,
                session_uuid=session_uuid,
                wake_executions=self.wake_executions,
            )
            if spec.policy is Policy.SESSION:
                ctx.operator, row = sessions.authenticate(db, session_uuid, now=now)
                if sessions.needs_renewal(row, now=now, settings=self.settings):
                    if spec.writes:
                        sessions.renew(db, row.uuid, now=now, settings=self.settings)
                    else:
                        renew_later = True
            clean = validate(spec.all_params, spec.class_name, msg)
            try:
                body = self._dispatch(spec, ctx, clean, query)
            except errors.ZStackError as error:
                if not getattr(error, "keep_changes", False):
                    raise
                kept_error = error
                body = {}
            if kept_error is None:
                outcome = _outcome(True, body)
                if job_uuid is not None:
                    db.add(
                        ApiJob(
                            uuid=job_uuid, api_name=spec.class_name, success=True, result=outcome.wire, create_date=now
                        )
                    )
                    self._flush_job(db, job_uuid)
        if kept_error is not None:
            raise kept_error
        if job_uuid is not None:
            self._remember(job_uuid, JobResult(spec.class_name, True, outcome.wire, now))
        if renew_later:
            with self.database.transaction(write=True) as db:
                sessions.renew(db, session_uuid or "", now=now, settings=self.settings)
        for hook in ctx.after_commit:
            hook()
        return outcome

    @staticmethod
    def _dispatch(spec: ApiSpec, ctx: CallContext, clean: dict[str, Any], query: QueryRequest | None) -> dict[str, Any]:
        if spec.kind is ApiKind.QUERY:
            assert spec.query is not None and spec.visibility is not None
            visibility = spec.visibility(ctx.caller, ctx.db)
            return run_query(ctx.db, spec.query, query or QueryRequest(), visibility=visibility)
        assert spec.handler is not None
        return spec.handler(ctx, clean)

    @staticmethod
    def _flush_job(db: Any, job_uuid: str) -> None:
        try:
            db.flush()
        except IntegrityError as exc:
            if "api_jobs" in str(exc.orig) or job_uuid in str(exc.params):
                raise DuplicateJob(job_uuid) from None
            raise

    def fail(self, spec: ApiSpec, error: errors.ZStackError, *, job_uuid: str | None) -> Outcome:
        """Report a malformed request found by a codec, through the same job store as any failure."""
        if job_uuid is not None and self.find_job(job_uuid) is not None:
            raise DuplicateJob(job_uuid)
        outcome = _failure(error)
        if job_uuid is not None:
            self._store_job(job_uuid, spec, outcome, utcnow())
        return outcome

    def _store_job(self, job_uuid: str, spec: ApiSpec, outcome: Outcome, now: datetime) -> None:
        try:
            with self.database.transaction(write=True) as db:
                db.add(
                    ApiJob(
                        uuid=job_uuid,
                        api_name=spec.class_name,
                        success=outcome.success,
                        result=outcome.wire,
                        create_date=now,
                    )
                )
        except IntegrityError:
            raise DuplicateJob(job_uuid) from None
        self._remember(job_uuid, JobResult(spec.class_name, outcome.success, outcome.wire, now))

    def expire(self) -> None:
        """Drop job results past their retention and sessions past their expiry."""
        now = utcnow()
        with self.database.transaction(write=True) as db:
            db.execute(delete(ApiJob).where(ApiJob.create_date < now - timedelta(seconds=self.settings.job_result_ttl)))
            db.execute(delete(Session).where(Session.expired_date < now))
