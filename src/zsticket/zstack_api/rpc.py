"""The older RPC endpoint ``POST /zstack/api`` (zstack-rpc-endpoint.md), over the same bus."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from zsticket.domain import errors
from zsticket.messages.bus import Bus, DuplicateJob
from zsticket.messages.catalogue import BY_CLASS_NAME
from zsticket.messages.spec import ApiKind
from zsticket.services.ids import new_uuid
from zsticket.settings import Settings
from zsticket.store.query_engine import QueryRequest
from zsticket.wire_json import to_wire
from zsticket.zstack_api import json_input, query_params
from zsticket.zstack_api.rest_v1 import json_response

# Fields that RestServer renames with @RestResponse but the RPC reply keeps under the server name.
RPC_FIELD_NAMES = {"org.zstack.header.identity.APIValidateSessionMsg": {"valid": "validSession"}}
QUERY_KEYS = ("conditions", "limit", "start", "count", "replyWithCount", "sortBy", "sortDirection", "fields")


def _envelope(job_uuid: str, reply_class: str, reply: dict[str, Any]) -> Response:
    result = json.dumps({reply_class: to_wire(reply)}, ensure_ascii=False, separators=(",", ":"))
    return json_response(200, json.dumps({"uuid": job_uuid, "state": "Done", "result": result}))


def _reply_class_for_unknown(name: str) -> str:
    return name[: -len("Msg")] + "Reply" if name.endswith("Msg") else "org.zstack.header.message.APIReply"


class RpcCodec:
    def __init__(self, bus: Bus, settings: Settings) -> None:
        self.bus = bus
        self.settings = settings

    async def handle(self, request: Request) -> Response:
        job_uuid = new_uuid()
        raw = await request.body()
        if len(raw) > self.settings.max_body_bytes:
            return PlainTextResponse(f"request body is larger than {self.settings.max_body_bytes} bytes", 413)
        try:
            body = json_input.loads(raw or b"{}")
        except (ValueError, RecursionError) as exc:
            error = errors.argerr(f"the request body is not valid JSON: {exc}")
            return _envelope(
                job_uuid, "org.zstack.header.message.APIReply", {"success": False, "error": error.to_error_code()}
            )
        if not isinstance(body, dict) or len(body) != 1:
            error = errors.argerr('the body must be one object {"<API class name>": {...}}')
            return _envelope(
                job_uuid, "org.zstack.header.message.APIReply", {"success": False, "error": error.to_error_code()}
            )
        class_name, msg = next(iter(body.items()))
        spec = BY_CLASS_NAME.get(class_name)
        if spec is None:
            error = errors.ZStackError(errors.UNKNOWN_MESSAGE, f"no service can deal with the message[{class_name}]")
            return _envelope(
                job_uuid, _reply_class_for_unknown(class_name), {"success": False, "error": error.to_error_code()}
            )
        if not isinstance(msg, dict):
            error = errors.argerr(f"the message[{class_name}] must be a JSON object")
            return _envelope(job_uuid, spec.reply_class, {"success": False, "error": error.to_error_code()})
        msg = dict(msg)
        session = msg.pop("session", None)
        session_uuid = session.get("uuid") if isinstance(session, dict) else None
        query: QueryRequest | None = None
        if spec.kind is ApiKind.QUERY:
            try:
                query = query_params.from_rpc(msg)
            except errors.ZStackError as error:
                return _envelope(job_uuid, spec.reply_class, {"success": False, "error": error.to_error_code()})
            for key in QUERY_KEYS:
                msg.pop(key, None)
        async_job = job_uuid if spec.kind is ApiKind.ASYNC else None
        try:
            outcome = await run_in_threadpool(
                self.bus.call, spec, msg, session_uuid=session_uuid, job_uuid=async_job, query=query
            )
        except DuplicateJob:  # a fresh uuid cannot collide; kept for completeness
            return PlainTextResponse("duplicate job", 400)
        reply = dict(outcome.body)
        for rest_name, rpc_name in RPC_FIELD_NAMES.get(spec.class_name, {}).items():
            if rest_name in reply:
                reply[rpc_name] = reply.pop(rest_name)
        reply["success"] = outcome.success
        return _envelope(job_uuid, spec.reply_class, reply)

    async def result(self, request: Request) -> Response:
        """``GET /zstack/api/result/{uuid}`` for clients that poll; every call here is already Done."""
        uuid = request.path_params["uuid"]
        job = await run_in_threadpool(self.bus.find_job, uuid)
        if job is None:
            return PlainTextResponse("the job has been expired", status_code=404)
        spec = BY_CLASS_NAME.get(job.api_name)
        reply = json.loads(job.result)
        reply["success"] = job.success
        reply_class = spec.reply_class if spec is not None else _reply_class_for_unknown(job.api_name)
        return _envelope(uuid, reply_class, reply)
