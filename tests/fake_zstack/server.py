"""The stand-in ZStack management node: REST v1 (under ``/zstack/v1`` and ``/v1``), the RPC endpoint, async jobs.

Wire behaviour follows zstack-rest-conventions.md and zstack-rpc-endpoint.md, with one deliberate difference:
a repeated ``X-Job-UUID`` (or RPC ``id``) is idempotent (the same 202 location, nothing new is created)
where real ZStack answers 400 ``Duplicate job uuid``.

Exactly once: a job's VM and its result are written in one SQLite transaction, committed before any poll
can see the job as done. A job that was still running when the process died is forgotten at the next start
(``--inflight-on-restart forget``, the default): its poll answers 404, and the client may send it again
under the same job uuid, which then runs for the first time. With ``resume`` it runs at once after the
restart instead. Either way at most one VM exists per job uuid (also enforced by a UNIQUE column).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.fake_zstack.control import control_routes
from tests.fake_zstack.node import VM_ACTIONS, FakeNode, Reply, text_reply
from tests.fake_zstack.wire import (
    CREATE_VM,
    DESTROY_VM,
    LOGIN,
    LOGOUT,
    QUERY_VM,
    RENEW_SESSION,
    SESSION_INVENTORY,
    VALIDATE_SESSION,
    error_code,
    session_inventory,
)

_TRANSPORT_KEY = "fake_zstack.transport"


class _ExposeTransport:
    """Puts uvicorn's socket transport into the scope, so that a handler can drop the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[_TRANSPORT_KEY] = getattr(getattr(send, "__self__", None), "transport", None)
        await self.app(scope, receive, send)


async def _drop(request: Request) -> Response:
    """Close the connection without any response: abort the socket, let uvicorn see the disconnect first.

    Raising would not do: uvicorn answers an exception with a 500. After ``abort()`` uvicorn's
    ``connection_lost`` marks the cycle disconnected, and it then discards whatever the app sends.
    """
    transport = request.scope.get(_TRANSPORT_KEY)
    if transport is None:
        raise RuntimeError("cannot drop the connection: run the stand-in under uvicorn's h11 protocol")
    transport.abort()
    for _ in range(3):
        await asyncio.sleep(0)
    return Response(status_code=500)  # never reaches the client


def build_app(node: FakeNode) -> ASGIApp:
    store = node.store

    def endpoint(
        transport: str, api_of: Callable[[Request, Any], str | None], handle: Callable[[Request, Any], Awaitable[Reply]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            raw = await request.body()
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            try:
                body: Any = json.loads(raw) if raw.strip() else None  # None: no body (logged as null)
                failure = None
            except ValueError as exc:
                body, failure = raw.decode(errors="replace"), str(exc)
            api = api_of(request, {} if body is None else body)

            def record(job_uuid: str | None, outcome: str) -> None:
                store.add_call(transport, request.method, path, api, job_uuid, body, outcome)

            if node.faults.take("drop", api):
                record(request.headers.get("x-job-uuid"), "dropped before processing")
                return await _drop(request)
            if node.faults.take("http_500", api):
                record(request.headers.get("x-job-uuid"), "500 injected")
                return PlainTextResponse("Internal Server Error", 500)
            if failure is not None or not isinstance(body, dict | None):
                response, job_uuid, note = text_reply(500, failure or "the body is not a JSON object")
            else:
                response, job_uuid, note = await handle(request, body or {})
            if node.faults.take("drop_after", api):
                record(job_uuid, f"{response.status_code} processed, response dropped {note}".strip())
                return await _drop(request)
            record(job_uuid, f"{response.status_code} {note}".strip())
            return response

        return serve

    def const(api: str) -> Callable[[Request, Any], str | None]:
        return lambda request, body: api

    def vm_action_api(request: Request, body: Any) -> str | None:
        keys = [key for key in VM_ACTIONS if isinstance(body, dict) and key in body]
        return VM_ACTIONS[keys[0]] if len(keys) == 1 else None

    def rpc_api(request: Request, body: Any) -> str | None:
        return next(iter(body)) if isinstance(body, dict) and len(body) == 1 else None

    async def login(request: Request, body: dict[str, Any]) -> Reply:
        fields = body.get("logInByAccount") or {}
        session = node.login(fields.get("accountName"), fields.get("password"))
        if session is None:
            error = error_code("ID.1000", "wrong account name or password")
            return JSONResponse({"error": error}, 503), None, ""
        reply: dict[str, Any] = {"inventory": session_inventory(session)}
        if request.headers.get("x-json-schema") == "true":
            reply["schema"] = {"inventory": SESSION_INVENTORY}
        return JSONResponse(reply), None, ""

    async def logout(request: Request, body: dict[str, Any]) -> Reply:
        store.delete_session(request.path_params["uuid"])
        return JSONResponse({}), None, ""

    async def valid(request: Request, body: dict[str, Any]) -> Reply:
        session = store.session(request.path_params["uuid"])
        return JSONResponse({"valid": session is not None and session["expires_at"] >= time.time()}), None, ""

    async def renew(request: Request, body: dict[str, Any]) -> Reply:
        message = {**(body.get("renewSession") or {}), "sessionUuid": request.path_params["uuid"]}
        return node.async_api(request, RENEW_SESSION, message)

    async def create_vm(request: Request, body: dict[str, Any]) -> Reply:
        message = dict(body.get("params") or {})
        message.update({k: body[k] for k in ("systemTags", "userTags") if k in body})
        return node.async_api(request, CREATE_VM, message)

    async def vm_action(request: Request, body: dict[str, Any]) -> Reply:
        api = vm_action_api(request, body)
        if api is None:
            return text_reply(400, f"the body doesn't contain action mapping to the URL[{request.url.path}]")
        key = next(k for k, v in VM_ACTIONS.items() if v == api)
        return node.async_api(request, api, {**(body.get(key) or {}), "uuid": request.path_params["uuid"]})

    async def vm_resource(request: Request, body: dict[str, Any]) -> Reply:
        if request.method == "DELETE":
            mode = request.query_params.get("deleteMode") or "Permissive"
            return node.async_api(request, DESTROY_VM, {"uuid": request.path_params["uuid"], "deleteMode": mode})
        return node.query_vms(request, request.path_params["uuid"]), None, ""

    async def vms(request: Request, body: dict[str, Any]) -> Reply:
        if request.method == "POST":
            return await create_vm(request, body)
        return node.query_vms(request, None), None, ""

    async def poll(request: Request, body: dict[str, Any]) -> Reply:
        return node.poll(request, request.path_params["uuid"])

    async def rpc(request: Request, body: dict[str, Any]) -> Reply:
        api = rpc_api(request, body)
        if api is None or not isinstance(body[api], dict):
            return text_reply(400, 'the body must be {"<API message class>": {...}}')
        return await node.rpc(request, api, body[api])

    async def rpc_result(request: Request, body: dict[str, Any]) -> Reply:
        job_uuid = request.path_params["uuid"]
        if node.store.job(job_uuid) is None:
            return text_reply(404, "the job has been expired")
        return JSONResponse(node.rpc_envelope(request, job_uuid)), job_uuid, ""

    def vm_resource_api(request: Request, body: Any) -> str:
        return DESTROY_VM if request.method == "DELETE" else QUERY_VM

    def vms_api(request: Request, body: Any) -> str:
        return CREATE_VM if request.method == "POST" else QUERY_VM

    rest: list[tuple[str, list[str], Callable[[Request, Any], str | None], Any]] = [
        ("/accounts/login", ["PUT"], const(LOGIN), login),
        ("/accounts/sessions/{uuid}/renew", ["PUT"], const(RENEW_SESSION), renew),
        ("/accounts/sessions/{uuid}/valid", ["GET"], const(VALIDATE_SESSION), valid),
        ("/accounts/sessions/{uuid}", ["DELETE"], const(LOGOUT), logout),
        ("/vm-instances", ["GET", "POST"], vms_api, vms),
        ("/vm-instances/{uuid}/actions", ["PUT"], vm_action_api, vm_action),
        ("/vm-instances/{uuid}", ["GET", "DELETE"], vm_resource_api, vm_resource),
        ("/api-jobs/{uuid}", ["GET", "POST", "PUT", "DELETE"], const("api-jobs"), poll),
    ]
    routes: list[BaseRoute] = [
        Route(prefix + path, endpoint("rest", api_of, handle), methods=methods)
        for prefix in ("/zstack/v1", "/v1")
        for path, methods, api_of, handle in rest
    ]
    routes += [Route(path, endpoint("rpc", rpc_api, rpc), methods=["POST"]) for path in ("/zstack/api", "/zstack/api/")]
    routes.append(Route("/zstack/api/result/{uuid}", endpoint("rpc", const("api-result"), rpc_result)))
    routes += control_routes(node)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if node.inflight_on_restart == "resume":
            for job in store.running_jobs():
                node.schedule(job["uuid"], honour_delay=False)  # resumed jobs run at once
        else:
            lost = store.forget_running_jobs()
            if lost:
                print(f"fake-zstack: forgot {len(lost)} job(s) in flight at the last stop: {lost}", file=sys.stderr)
        yield
        for task in list(node.tasks):
            task.cancel()

    # Outside Starlette: its error middleware would hide uvicorn's ``send`` behind a wrapper.
    return _ExposeTransport(Starlette(routes=routes, lifespan=lifespan))
