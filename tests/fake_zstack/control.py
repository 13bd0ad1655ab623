"""Fault injection and the ``/__control/`` API (not part of ZStack).

Faults live in memory only: a restarted process starts without faults (its durable state is in the store).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fake_zstack.wire import CREATE_VM, complete_error

if TYPE_CHECKING:
    from tests.fake_zstack.node import FakeNode

POLLS = ("api-jobs", "api-result")
_COUNTED = ("fail", "drop", "drop_after", "http_500")


def matches(pattern: str | None, api: str | None) -> bool:
    """``None`` matches every API call except job polls; otherwise a full class name, its short name or a label."""
    if pattern is None:
        return api not in POLLS
    return api is not None and (api == pattern or api.endswith("." + pattern))


@dataclass
class Faults:
    job_delay: float = 0.0  # async jobs created from now on stay running this many seconds
    fail_next: int = 0  # the next N jobs of ``fail_api`` end in 503 ``error``
    fail_api: str = CREATE_VM
    error: dict[str, Any] = field(default_factory=lambda: complete_error({"code": "SYS.1006"}))
    drop_next: int = 0  # the next N matching requests: connection closed before anything is processed
    drop_api: str | None = None
    drop_after_next: int = 0  # the next N matching requests: processed and committed, then connection closed
    drop_after_api: str | None = None
    http_500_next: int = 0  # the next N matching requests: plain-text 500, nothing processed
    http_500_api: str | None = None

    def update(self, data: dict[str, Any]) -> None:
        known = set(asdict(self)) | {"expire_sessions"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault keys {unknown}; known: {sorted(known)}")
        for key, value in data.items():
            if key == "expire_sessions":
                continue
            if key == "error":
                value = complete_error(dict(value))
            elif key == "job_delay":
                value = float(value)
            elif key.endswith("_next"):
                value = int(value)
            setattr(self, key, value)

    def take(self, kind: str, api: str | None) -> bool:
        """Consume one ``<kind>_next`` if it applies to ``api``."""
        assert kind in _COUNTED
        remaining: int = getattr(self, f"{kind}_next")
        if remaining <= 0 or not matches(getattr(self, f"{kind}_api"), api):
            return False
        setattr(self, f"{kind}_next", remaining - 1)
        return True


def control_routes(node: FakeNode) -> list[Route]:
    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "pid": os.getpid()})

    async def faults(request: Request) -> Response:
        result: dict[str, Any] = {}
        if request.method == "DELETE":
            node.faults = Faults()
        elif request.method == "POST":
            data = await request.json()
            try:
                node.faults.update(data)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            if data.get("expire_sessions"):
                result["expired_sessions"] = node.store.expire_all_sessions()
        return JSONResponse({"faults": asdict(node.faults), **result})

    async def reset(request: Request) -> Response:
        node.faults = Faults()
        node.store.reset()
        return JSONResponse({"ok": True})

    async def calls(request: Request) -> Response:
        since = int(request.query_params.get("since", "0"))
        api = request.query_params.get("api")
        rows = node.store.calls(since)
        if api is not None:
            rows = [row for row in rows if matches(api, row["api"])]
        return JSONResponse(rows)

    async def resources(request: Request) -> Response:
        return JSONResponse(node.store.vms())

    async def jobs(request: Request) -> Response:
        return JSONResponse(node.store.jobs())

    return [
        Route("/__control/health", health),
        Route("/__control/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/__control/reset", reset, methods=["POST"]),
        Route("/__control/calls", calls),
        Route("/__control/resources", resources),
        Route("/__control/jobs", jobs),
    ]
