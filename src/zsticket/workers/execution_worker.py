"""Threads that claim execution rows and run them against the ZStack upstream.

Woken at once by the API call that made a ticket FinalApproved (in-process) or by PostgreSQL
``LISTEN/NOTIFY`` (other processes); the idle timeout is only a safety net for due retries and
expired leases.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from zsticket.adapters.zstack_upstream import (
    CallOutcome,
    SessionRefused,
    TransientError,
    ZStackUpstream,
    is_rest_api,
)
from zsticket.domain.executions import ExecutionState, backoff_seconds
from zsticket.services import executions
from zsticket.services.executions import Call
from zsticket.settings import Settings
from zsticket.store.database import Database
from zsticket.wire_dates import utcnow

log = logging.getLogger("zsticket.worker")

UpstreamFor = Callable[[str], ZStackUpstream]


def upstream_factory(settings: Settings) -> UpstreamFor | None:
    """Clients per account: the default one, or a project's own ZStack account when configured."""
    if not settings.zstack_url or settings.zstack_password is None:
        return None
    url = settings.zstack_url
    clients: dict[str, ZStackUpstream] = {}
    lock = threading.Lock()

    def upstream_for(project_uuid: str) -> ZStackUpstream:
        override = settings.zstack_project_accounts.get(project_uuid)
        account = override["account"] if override else settings.zstack_account
        password = override["password"] if override else str(settings.zstack_password)
        with lock:
            if account not in clients:
                clients[account] = ZStackUpstream(
                    url=url, account=account, password=password, job_deadline=settings.upstream_job_deadline
                )
            return clients[account]

    return upstream_for


class ExecutionWorkers:
    def __init__(self, database: Database, settings: Settings, upstream_for: UpstreamFor | None) -> None:
        self.database = database
        self.settings = settings
        self.upstream_for = upstream_for
        self._wake = threading.Condition()
        self._pending_wakeups = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.owner_prefix = f"{os.uname().nodename}:{os.getpid()}"

    def start(self) -> None:
        if self.upstream_for is None:
            log.warning("no ZStack upstream configured: approved calls wait (state Waiting) until one is set")
            return
        for index in range(self.settings.execution_workers):
            thread = threading.Thread(target=self._run, args=(f"{self.owner_prefix}:{index}",), daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.database.engine.dialect.name == "postgresql":
            listener = threading.Thread(target=self._listen, daemon=True)
            listener.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout=5)

    def wake(self) -> None:
        with self._wake:
            self._pending_wakeups += 1
            self._wake.notify_all()

    def _idle(self) -> None:
        with self._wake:
            if self._pending_wakeups == 0:
                self._wake.wait(timeout=self.settings.execution_idle_seconds)
            self._pending_wakeups = max(0, self._pending_wakeups - 1)

    def _listen(self) -> None:
        """Wake on PostgreSQL NOTIFY from other processes' approvals."""
        import psycopg

        url = self.database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {executions.NOTIFY_CHANNEL}")
                    for _ in conn.notifies(timeout=self.settings.execution_idle_seconds * 5):
                        self.wake()
                        if self._stop.is_set():
                            return
            except psycopg.Error as exc:
                log.warning("LISTEN failed: %s", exc)
                self._stop.wait(1)

    def _run(self, owner: str) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once(owner)
            except Exception:
                log.exception("execution worker %s failed; continuing", owner)
                worked = False
            if not worked:
                self._idle()

    def run_once(self, owner: str) -> bool:
        """Claim one ticket's calls and run them in order; False when nothing was due."""
        with self.database.transaction(write=True) as db:
            calls = executions.claim_ticket(
                db, owner=owner, now=utcnow(), lease_seconds=self.settings.execution_lease_seconds
            )
        if not calls:
            return False
        assert self.upstream_for is not None
        for call in calls:
            if not self._run_call(owner, call):
                break
        return True

    def _run_call(self, owner: str, call: Call) -> bool:
        """Run one call to its end; False when it was deferred (the ticket's later calls must wait)."""
        assert self.upstream_for is not None
        upstream = self.upstream_for(call.project_uuid)
        try:
            outcome = self._resolve_or_send(owner, call, upstream)
        except TransientError as exc:
            delay = backoff_seconds(call.attempts + 1)
            log.warning("ticket %s call %s deferred %.1fs: %s", call.ticket_uuid, call.job_uuid, delay, exc)
            with self.database.transaction(write=True) as db:
                executions.defer(db, call.uuid, owner=owner, now=utcnow(), delay=delay, reason=str(exc))
            return False
        if outcome is None:
            return False
        log.info(
            "ticket %s call %s (%s) %s",
            call.ticket_uuid,
            call.job_uuid,
            call.api_name,
            "succeeded" if outcome.succeeded else "failed",
        )
        with self.database.transaction(write=True) as db:
            executions.finish(
                db,
                call.uuid,
                owner=owner,
                now=utcnow(),
                succeeded=outcome.succeeded,
                result=outcome.result,
                error=outcome.error,
            )
        return True

    def _resolve_or_send(self, owner: str, call: Call, upstream: ZStackUpstream) -> CallOutcome | None:
        job_uuid = call.job_uuid
        if call.state == ExecutionState.RUNNING.value:
            if not is_rest_api(call.api_name):
                return CallOutcome(
                    False,
                    error={
                        "code": "SYS.1006",
                        "description": "An operation failed",
                        "details": f"outcome unknown: API[{call.api_name}] was sent through the RPC endpoint, "
                        "which cannot be asked about it afterwards; check ZStack before submitting it again",
                    },
                )
            found = upstream.lookup(job_uuid, on_wait=self._keep_lease(owner, call))
            if found is not None:
                return found
        for _ in range(3):
            with self.database.transaction(write=True) as db:
                sent = executions.mark_sent(
                    db, call.uuid, owner=owner, now=utcnow(), lease_seconds=self.settings.execution_lease_seconds
                )
            if not sent:
                return None  # our lease was lost to another worker
            log.info("ticket %s: sending %s as job %s", call.ticket_uuid, call.api_name, job_uuid)
            try:
                return upstream.submit(call.api_name, call.api_body, job_uuid, on_wait=self._keep_lease(owner, call))
            except SessionRefused as refused:
                if refused.consumed:
                    with self.database.transaction(write=True) as db:
                        renewed = executions.renew_job_uuid(db, call.uuid, owner=owner, now=utcnow())
                    if renewed is None:
                        return None
                    job_uuid = renewed
        raise TransientError("the management node keeps refusing our session")

    def _keep_lease(self, owner: str, call: Call) -> Callable[[], None]:
        """Called while a job is polled: extend the lease every third of its length."""
        lease = self.settings.execution_lease_seconds
        last = [time.monotonic()]

        def keep() -> None:
            if time.monotonic() - last[0] < lease / 3:
                return
            last[0] = time.monotonic()
            with self.database.transaction(write=True) as db:
                if not executions.extend_lease(db, call.uuid, owner=owner, now=utcnow(), lease_seconds=lease):
                    raise TransientError("lease lost while waiting for the job")

        return keep
