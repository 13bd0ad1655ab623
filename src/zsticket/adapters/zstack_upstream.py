"""The ZStack management node that approved calls run against (REST v1, RPC fallback).

Every call carries a deterministic ``X-Job-UUID``; :meth:`ZStackUpstream.lookup` asks the node
about a job id before anything is sent again, so a crash between sending and recording never
creates a second resource. Failures are sorted into three kinds:

    CallOutcome(succeeded=False, error=...)  the API answered with an ErrorCode: final
    SessionRefused                           ID.1001: log in again and send again
    TransientError                           connection errors, timeouts, 5xx without ErrorCode: retry
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from zsticket.adapters.zstack_routes import route_for

log = logging.getLogger("zsticket.upstream")
_PATH_VARIABLE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class CallOutcome:
    succeeded: bool
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class TransientError(Exception):
    """The node could not be reached or did not answer in time; the call may be retried."""


class SessionRefused(Exception):
    """The node refused our session (ID.1001); ``consumed`` when the job id was used up by the refusal."""

    def __init__(self, *, consumed: bool) -> None:
        super().__init__("session refused by the management node")
        self.consumed = consumed


def _error_code(code: str, details: str) -> dict[str, Any]:
    descriptions = {"SYS.1015": "Cannot make a HTTP request", "SYS.1007": "One or more API argument is invalid"}
    return {"code": code, "description": descriptions.get(code, "An operation failed"), "details": details}


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def is_rest_api(api_name: str) -> bool:
    """Whether calls of ``api_name`` go through REST v1 (and so can be looked up by job id)."""
    return route_for(api_name) is not None


class ZStackUpstream:
    """A client of one management node acting as one account; thread-safe, session reused."""

    def __init__(
        self,
        *,
        url: str,
        account: str,
        password: str,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        poll_interval: float = 0.05,
        job_deadline: float = 600.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.account = account
        self._password_hash = hashlib.sha512(password.encode()).hexdigest()
        self.http = httpx.Client(transport=transport, timeout=timeout)
        self.poll_interval = poll_interval
        self.job_deadline = job_deadline
        self._session: str | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    # --- sessions ---------------------------------------------------------------------------------

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise TransientError(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc

    def session(self) -> str:
        with self._lock:
            if self._session is None:
                self._session = self._login()
            return self._session

    def forget_session(self, session: str) -> None:
        with self._lock:
            if self._session == session:
                self._session = None

    def _login(self) -> str:
        body = {"logInByAccount": {"accountName": self.account, "password": self._password_hash}}
        response = self._request("PUT", f"{self.url}/v1/accounts/login", json=body)
        payload = _json(response)
        if response.status_code == 200 and isinstance(payload, dict) and "inventory" in payload:
            return str(payload["inventory"]["uuid"])
        raise TransientError(f"login as {self.account} failed: HTTP {response.status_code} {response.text[:300]}")

    # --- calls ------------------------------------------------------------------------------------

    def submit(
        self, api_name: str, body: dict[str, Any], job_uuid: str, *, on_wait: Callable[[], None] | None = None
    ) -> CallOutcome:
        """Send one call and wait for its outcome (bounded by ``job_deadline``)."""
        route = route_for(api_name)
        if route is None:
            return self._submit_rpc(api_name, body)
        session = self.session()
        fields = dict(body)
        path = route.path
        for name in _PATH_VARIABLE.findall(route.path):
            value = fields.pop(name, None)
            if not isinstance(value, str) or not value:
                return CallOutcome(False, error=_error_code("SYS.1007", f"apiBody has no [{name}] for {route.path}"))
            path = path.replace("{" + name + "}", value)
        headers = {"Authorization": f"OAuth {session}", "X-Job-UUID": job_uuid}
        url = f"{self.url}/v1{path}"
        if route.method in ("GET", "DELETE"):
            response = self._request(route.method, url, params=fields, headers=headers)
        else:
            response = self._request(route.method, url, json={route.wrapper or "params": fields}, headers=headers)
        if response.status_code == 202 or (
            response.status_code == 400 and response.text.startswith("Duplicate job uuid")
        ):
            return self._wait(job_uuid, session, on_wait)
        return self._final(response, session, consumed=False)

    def lookup(self, job_uuid: str, *, on_wait: Callable[[], None] | None = None) -> CallOutcome | None:
        """The outcome of a job sent earlier, or ``None`` if the node never received it."""
        response = self._request("GET", f"{self.url}/v1/api-jobs/{job_uuid}")
        if response.status_code == 404:
            return None
        if response.status_code == 202:
            return self._wait(job_uuid, None, on_wait)
        return self._final(response, None, consumed=True)

    def _wait(self, job_uuid: str, session: str | None, on_wait: Callable[[], None] | None) -> CallOutcome:
        deadline = time.monotonic() + self.job_deadline
        while True:
            response = self._request("GET", f"{self.url}/v1/api-jobs/{job_uuid}")
            if response.status_code != 202:
                if response.status_code == 404:
                    raise TransientError(f"job {job_uuid} vanished from the management node")
                return self._final(response, session, consumed=True)
            if time.monotonic() > deadline:
                raise TransientError(f"job {job_uuid} still running after {self.job_deadline:.0f}s")
            if on_wait is not None:
                on_wait()
            time.sleep(self.poll_interval)

    def _final(self, response: httpx.Response, session: str | None, *, consumed: bool) -> CallOutcome:
        payload = _json(response)
        if response.status_code in (200, 204):
            return CallOutcome(True, result=payload if isinstance(payload, dict) else {})
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict) and "code" in error:
            if error["code"] == "ID.1001":
                if session is not None:
                    self.forget_session(session)
                raise SessionRefused(consumed=consumed)
            return CallOutcome(False, error=error)
        if response.status_code >= 500:
            raise TransientError(f"HTTP {response.status_code} without an ErrorCode: {response.text[:300]}")
        return CallOutcome(False, error=_error_code("SYS.1015", f"HTTP {response.status_code}: {response.text[:500]}"))

    def _submit_rpc(self, api_name: str, body: dict[str, Any]) -> CallOutcome:
        """The RPC endpoint for APIs without a known REST route: at most once, never looked up."""
        session = self.session()
        message = {api_name: {**body, "session": {"uuid": session}}}
        response = self._request("POST", f"{self.url}/api", json=message)
        payload = _json(response)
        if response.status_code != 200 or not isinstance(payload, dict):
            raise TransientError(f"RPC {api_name}: HTTP {response.status_code} {response.text[:300]}")
        deadline = time.monotonic() + self.job_deadline
        while payload.get("state") not in ("Done", "Error"):
            if time.monotonic() > deadline:
                raise TransientError(f"RPC job {payload.get('uuid')} still running")
            time.sleep(self.poll_interval)
            payload = _json(self._request("GET", f"{self.url}/api/result/{payload.get('uuid')}")) or {}
        reply = next(iter(json.loads(payload["result"]).values()))
        if reply.get("success"):
            return CallOutcome(True, result={k: v for k, v in reply.items() if k != "success"})
        error = reply.get("error") or _error_code("SYS.1015", "RPC reply without error")
        if error.get("code") == "ID.1001":
            self.forget_session(session)
            raise SessionRefused(consumed=False)
        return CallOutcome(False, error=error)
