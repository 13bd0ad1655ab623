"""REST v1 (rest-conventions §1-7): request → message → bus → ZStack reply envelope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from zsticket.domain import errors
from zsticket.messages.bus import Bus, DuplicateJob, Outcome
from zsticket.messages.spec import ApiKind, ApiSpec, Policy
from zsticket.services.ids import new_uuid
from zsticket.settings import Settings
from zsticket.store.query_engine import Condition, Op, QueryRequest
from zsticket.wire_json import dumps
from zsticket.zstack_api import json_input, query_params
from zsticket.zstack_api.routing import RouteTable
from zsticket.zstack_api.webhooks import post_job_result

JSON_TYPE = "application/json; charset=utf-8"
TAG_KEYS = ("systemTags", "userTags")


class PlainError(Exception):
    """A RestServer-level refusal: plain text with an HTTP status, before any API runs."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def json_response(status: int, body: str) -> Response:
    return Response(body, status_code=status, media_type=JSON_TYPE)


def _query_items(request: Request) -> list[tuple[str, str]]:
    # '+' is a space, as in Java's URLDecoder; raw '%' without hex digits is kept (zssdk sends it raw).
    return parse_qsl(request.url.query, keep_blank_values=True)


def query_string_message(items: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """GET/DELETE parameters: repeated keys and ``k.0`` are lists, ``k.key`` are maps."""
    msg: dict[str, Any] = {}
    for key, value in items:
        base, _, sub = key.partition(".")
        if sub and sub.isdigit():
            msg.setdefault(base, []).append(value)
        elif sub:
            target = msg.setdefault(base, {})
            if isinstance(target, dict):
                target[sub] = value
        elif key in msg:
            existing = msg[key]
            msg[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            msg[key] = value
    return msg


class RestCodec:
    def __init__(self, bus: Bus, settings: Settings, routes: RouteTable) -> None:
        self.bus = bus
        self.settings = settings
        self.routes = routes

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except PlainError as exc:
            return PlainTextResponse(exc.text, status_code=exc.status)
        except DuplicateJob as exc:  # also raised by bus.fail() for a malformed body
            return PlainTextResponse(str(exc), status_code=400)

    async def _handle(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        match = self.routes.match(path)
        if match is None:
            raise PlainError(404, f"no api mapping to {request.url.path}")
        url_texts = [*match.variables.values(), *(text for item in _query_items(request) for text in item)]
        if any(json_input.unstorable(text) for text in url_texts):
            raise PlainError(400, "the request URL contains a NUL character or an unpaired surrogate")
        candidates = match.route.by_method.get(request.method)
        if not candidates:
            raise PlainError(405, f"method {request.method} is not allowed on {request.url.path}")
        body, body_error = await self._read_body(request)
        spec = self._pick(candidates, body, request)
        job_uuid = self._job_uuid(request, spec)
        session_uuid = self._session_uuid(request, spec)
        if body_error is not None:
            return self._respond(request, spec, self.bus.fail(spec, body_error, job_uuid=job_uuid), job_uuid)
        query: QueryRequest | None = None
        if spec.kind is ApiKind.QUERY:
            msg: dict[str, Any] = {}
            if spec.class_name in match.route.optional_for:
                query = QueryRequest(conditions=[Condition("uuid", Op.EQ, match.variables["uuid"])])
            else:
                try:
                    query = query_params.from_rest(_query_items(request))
                except query_params.BadQuery as exc:
                    raise PlainError(400, str(exc)) from None
        elif request.method in ("GET", "DELETE"):
            msg = query_string_message(_query_items(request))
        else:
            try:
                msg = self._wrapped_message(spec, body)
            except errors.ZStackError as error:
                return self._respond(request, spec, self.bus.fail(spec, error, job_uuid=job_uuid), job_uuid)
        msg.update(match.variables)
        try:
            outcome = await run_in_threadpool(
                self.bus.call, spec, msg, session_uuid=session_uuid, job_uuid=job_uuid, query=query
            )
        except DuplicateJob as exc:
            raise PlainError(400, str(exc)) from None
        return self._respond(request, spec, outcome, job_uuid)

    async def _read_body(self, request: Request) -> tuple[dict[str, Any], errors.ZStackError | None]:
        if request.method not in ("POST", "PUT"):
            return {}, None
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            raise PlainError(413, f"request body is larger than {self.settings.max_body_bytes} bytes")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > self.settings.max_body_bytes:
                raise PlainError(413, f"request body is larger than {self.settings.max_body_bytes} bytes")
        if not raw.strip():
            return {}, None
        try:
            body = json_input.loads(raw)
        except (ValueError, RecursionError) as exc:
            return {}, errors.argerr(f"the request body is not valid JSON: {exc}")
        if not isinstance(body, dict):
            return {}, errors.argerr("the request body must be a JSON object")
        return body, None

    @staticmethod
    def _pick(candidates: list[ApiSpec], body: dict[str, Any], request: Request) -> ApiSpec:
        if len(candidates) == 1:
            return candidates[0]
        for spec in candidates:
            if spec.wrapper is not None and spec.wrapper in body:
                return spec
        raise PlainError(400, f"the body doesn't contain action mapping to the URL[{request.url.path}]")

    @staticmethod
    def _wrapped_message(spec: ApiSpec, body: dict[str, Any]) -> dict[str, Any]:
        inner = body.get(spec.wrapper or "params")
        if inner is None and spec.method == "POST":
            # Some Go SDK versions wrap POST bodies in another key; accept exactly one object.
            others = [v for k, v in body.items() if k not in (*TAG_KEYS, "requestIp") and isinstance(v, dict)]
            inner = others[0] if len(others) == 1 else None
        if inner is None:
            inner = {}
        if not isinstance(inner, dict):
            raise errors.argerr(f"the body member[{spec.wrapper}] must be a JSON object")
        msg = dict(inner)
        for key in TAG_KEYS:
            if key in body:
                msg[key] = body[key]
        return msg

    @staticmethod
    def _job_uuid(request: Request, spec: ApiSpec) -> str | None:
        if spec.kind is not ApiKind.ASYNC:
            return None
        header = request.headers.get("x-job-uuid")
        if header is None:
            return new_uuid()
        if len(header) != 32:
            raise PlainError(400, "Invalid header[X-Job-UUID], it must be a UUID with '-' stripped")
        return header

    @staticmethod
    def _session_uuid(request: Request, spec: ApiSpec) -> str | None:
        if spec.policy is Policy.NONE:
            return None
        header = request.headers.get("authorization")
        if header is None:
            raise PlainError(400, "missing header 'Authorization'")
        if header.startswith("OAuth"):
            return header[len("OAuth") :].strip()
        if header.startswith("ZStack"):
            raise PlainError(400, "access key authentication is not supported, use 'Authorization: OAuth <session>'")
        raise PlainError(400, "Authorization type must be 'OAuth'")

    def _respond(self, request: Request, spec: ApiSpec, outcome: Outcome, job_uuid: str | None) -> Response:
        if spec.kind is ApiKind.ASYNC and job_uuid is not None:
            hook = request.headers.get("x-web-hook") or request.headers.get("webhook")
            if hook:
                post_job_result(
                    hook,
                    job_uuid=job_uuid,
                    success=outcome.success,
                    body=outcome.wire,
                    retries=self.settings.webhook_retries,
                    interval=self.settings.webhook_interval,
                )
            host = request.headers.get("host") or f"{self.settings.host}:{self.settings.port}"
            timeout = request.headers.get("x-api-timeout", "")
            api_timeout = int(timeout) * 1000 if timeout.isdigit() else self.settings.api_timeout_ms
            location = f"http://{host}/zstack/v1/api-jobs/{job_uuid}"
            return json_response(202, dumps({"location": location, "apiTimeout": api_timeout}))
        if not outcome.success:
            return json_response(503, outcome.wire)
        if spec.kind is ApiKind.QUERY and spec.query is not None:
            body = dict(outcome.body)
            inventories = body.get("inventories", [])
            body["schema"] = {f"inventories[{i}]": spec.query.inventory_class for i in range(len(inventories))}
            return json_response(200, dumps(body))
        return json_response(200, outcome.wire)


class ApiJobs:
    """``GET /zstack/v1/api-jobs/{uuid}``: 200 result, 503 error, 404 expired; no session needed."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def handle(self, request: Request) -> Response:
        if request.method != "GET":
            return PlainTextResponse("only GET method is allowed for querying job status", status_code=405)
        uuid = request.path_params["uuid"]
        job = self.bus.recent_job(uuid) or await run_in_threadpool(self.bus.find_job, uuid)
        if job is None:
            return PlainTextResponse("the job has been expired", status_code=404)
        return json_response(200 if job.success else 503, job.result)
