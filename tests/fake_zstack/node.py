"""The stand-in's behaviour: sessions, async jobs, the VM APIs over REST v1 and RPC.

Exactly once: a job's VM and its result are written in one SQLite transaction, committed before any poll
can see the job as done, and a repeated job uuid never starts a second job.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from tests.fake_zstack.control import Faults
from tests.fake_zstack.store import Store
from tests.fake_zstack.wire import (
    CREATE_VM,
    DESTROY_VM,
    LOGIN,
    REBOOT_VM,
    RENEW_SESSION,
    SESSION_INVENTORY,
    START_VM,
    STOP_VM,
    account_uuid,
    error_code,
    new_uuid,
    session_inventory,
    validate_create_vm,
    vm_inventory,
    vm_schema,
    zstack_date,
)

VM_ACTIONS = {"startVmInstance": START_VM, "stopVmInstance": STOP_VM, "rebootVmInstance": REBOOT_VM}
VM_APIS = (CREATE_VM, START_VM, STOP_VM, REBOOT_VM, DESTROY_VM)
_RPC_ASYNC = (*VM_APIS, RENEW_SESSION)
_QUERY_OPS = ("!=", ">=", "<=", "!?=", "!~=", "~=", "?=", "=", ">", "<", " is null", " not null")
Reply = tuple[Response, str | None, str]  # the response, the job uuid, a note for the call log


def text_reply(status: int, text: str) -> Reply:
    return PlainTextResponse(text, status), None, ""


def _event_class(api: str) -> str:
    return api[: -len("Msg")] + "Event" if api.endswith("Msg") else api + "Event"


class FakeNode:
    def __init__(
        self, store: Store, accounts: dict[str, str], session_timeout: float, inflight_on_restart: str = "forget"
    ) -> None:
        self.store = store
        self.accounts = accounts  # account name -> sha512 hex of the password
        self.session_timeout = session_timeout
        self.inflight_on_restart = inflight_on_restart
        self.faults = Faults()
        self.tasks: set[asyncio.Task[None]] = set()

    # --- sessions -------------------------------------------------------------------------------------

    def login(self, name: Any, password: Any) -> dict[str, Any] | None:
        if not isinstance(name, str) or self.accounts.get(name) != password:
            return None
        return self.store.add_session(new_uuid(), name, account_uuid(name), self.session_timeout)

    def check_session(self, uuid: Any) -> dict[str, Any] | None:
        """``None`` for a valid session (renewed: sliding expiry), else the ID.1001 ErrorCode."""
        if not isinstance(uuid, str) or not uuid:
            return error_code("ID.1001", "session uuid is null")
        session = self.store.session(uuid)
        if session is None or session["expires_at"] < time.time():
            self.store.delete_session(uuid)
            return error_code("ID.1001", "Session expired")
        self.store.set_session_expiry(uuid, time.time() + self.session_timeout)
        return None

    # --- jobs -----------------------------------------------------------------------------------------

    def submit(self, api: str, message: dict[str, Any], job_uuid: str, session: Any, transport: str) -> bool:
        """Record and start a job; ``False`` if ``job_uuid`` is known already (then nothing happens)."""
        if self.store.job(job_uuid) is not None:
            return False
        planned = self.check_session(session)
        delay = 0.0 if planned else self.faults.job_delay
        if planned is None and self.faults.take("fail", api):
            planned = dict(self.faults.error)
        self.store.add_job(job_uuid, api, transport, message, delay, planned)
        self.schedule(job_uuid)
        return True

    def schedule(self, job_uuid: str, *, honour_delay: bool = True) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job_uuid, honour_delay))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, job_uuid: str, honour_delay: bool) -> None:
        job = self.store.job(job_uuid)
        if job is None:
            return
        if honour_delay:
            await asyncio.sleep(max(0.0, job["created_at"] + job["delay"] - time.time()))
        with self.store.transaction():
            job = self.store.job(job_uuid)
            if job is None or job["state"] != "running":  # reset meanwhile
                return
            if job["planned_error"] is not None:
                status, result = 503, {"error": job["planned_error"]}
            else:
                status, result = self._execute(job)
            self.store.finish_job(job_uuid, status, result)

    def _execute(self, job: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        api, msg, now = job["api"], job["request"], time.time()
        if api == CREATE_VM:
            error = validate_create_vm(msg)
            if error is None and msg.get("resourceUuid") and self.store.vm(msg["resourceUuid"]) is not None:
                error = error_code("SYS.1006", f"resource[uuid:{msg['resourceUuid']}] already exists")
            if error is not None:
                return 503, {"error": error}
            inventory = vm_inventory(msg, now)
            self.store.add_vm(inventory, job["uuid"], api, msg)
            return 200, {"inventory": inventory}
        if api in (START_VM, STOP_VM, REBOOT_VM, DESTROY_VM):
            vm = self.store.vm(str(msg.get("uuid")))
            if vm is None:
                if api == DESTROY_VM:  # successIfResourceNotExisting
                    return 200, {}
                details = f"invalid field[uuid], resource[uuid:{msg.get('uuid')}, type:VmInstanceVO] not found"
                return 503, {"error": error_code("SYS.1003", details)}
            inventory = vm["inventory"]
            if inventory["state"] == "Destroyed" and api != DESTROY_VM:
                return 503, {"error": error_code("SYS.1006", f"vm[uuid:{inventory['uuid']}] is Destroyed")}
            states = {START_VM: "Running", STOP_VM: "Stopped", REBOOT_VM: "Running", DESTROY_VM: "Destroyed"}
            inventory = {**inventory, "state": states[api], "lastOpDate": zstack_date(now)}
            self.store.update_vm(inventory)
            return 200, ({} if api == DESTROY_VM else {"inventory": inventory})
        if api == RENEW_SESSION:
            target = self.store.session(str(msg.get("sessionUuid")))
            if target is None:
                return 503, {"error": error_code("ID.1001", "Session expired")}
            duration = float(msg.get("duration") or self.session_timeout)
            self.store.set_session_expiry(target["uuid"], now + duration)
            renewed = self.store.session(target["uuid"])
            assert renewed is not None
            return 200, {"inventory": session_inventory(renewed)}
        return 503, {"error": error_code("SYS.1008", f"no service can deal with message[{api}]")}

    # --- REST -----------------------------------------------------------------------------------------

    def async_api(self, request: Request, api: str, message: dict[str, Any]) -> Reply:
        header = request.headers.get("authorization")
        if header is None:
            return text_reply(400, "missing header 'Authorization'")
        if not header.startswith("OAuth"):
            return text_reply(400, "Authorization type must be 'OAuth'")
        job_uuid = request.headers.get("x-job-uuid") or new_uuid()
        if len(job_uuid) != 32:
            return text_reply(400, "Invalid header[X-Job-UUID], it must be a UUID with '-' stripped")
        new = self.submit(api, message, job_uuid, header[len("OAuth") :].strip(), "rest")
        timeout = request.headers.get("x-api-timeout", "")
        body = {
            "location": f"http://{request.headers.get('host', 'localhost')}/zstack/v1/api-jobs/{job_uuid}",
            "apiTimeout": int(timeout) * 1000 if timeout.isdigit() else 1800000,
        }
        return JSONResponse(body, 202), job_uuid, "" if new else "duplicate job uuid: nothing new"

    def sync_session(self, request: Request) -> Response | None:
        """Auth of a sync API: a plain 400 or an ID.1001 503 to answer instead, or ``None``."""
        header = request.headers.get("authorization")
        if header is None:
            return PlainTextResponse("missing header 'Authorization'", 400)
        if not header.startswith("OAuth"):
            return PlainTextResponse("Authorization type must be 'OAuth'", 400)
        error = self.check_session(header[len("OAuth") :].strip())
        return None if error is None else JSONResponse({"error": error}, 503)

    def poll(self, request: Request, job_uuid: str) -> Reply:
        if request.method != "GET":
            return text_reply(405, "only GET method is allowed for querying job status")
        job = self.store.job(job_uuid)
        if job is None:
            return text_reply(404, "the job has been expired")
        if job["state"] == "running":
            return JSONResponse({}, 202), job_uuid, ""
        result = dict(job["result"])
        if job["status"] == 200 and "inventory" in result and request.headers.get("x-json-schema") == "true":
            api = job["api"]
            result["schema"] = (
                vm_schema("inventory", result["inventory"]) if api in VM_APIS else {"inventory": SESSION_INVENTORY}
            )
        return JSONResponse(result, job["status"]), job_uuid, ""

    def query_vms(self, request: Request, uuid: str | None) -> Response:
        refused = self.sync_session(request)
        if refused is not None:
            return refused
        rows = [vm["inventory"] for vm in self.store.vms()]
        conditions = [f"uuid={uuid}"] if uuid else request.query_params.getlist("q")
        for condition in conditions:
            op = next((op for op in _QUERY_OPS if op in condition), None)
            if op is None:
                return PlainTextResponse(
                    f"Invalid query parameter. The '{condition}' in the parameter[q] doesn't contain any query"
                    f" operator. Valid query operators are {list(_QUERY_OPS)}",
                    400,
                )
            name, value = condition.split(op, 1)
            if op not in ("=", "!=", "?="):
                return JSONResponse({"error": error_code("SYS.1014", f"the stand-in has no query op [{op}]")}, 503)
            values = [v.strip() for v in value.split(",")] if op == "?=" else [value]
            rows = [r for r in rows if (str(r.get(name)) in values) == (op != "!=")]
        total = len(rows)
        if not uuid:
            start = int(request.query_params.get("start", "0"))
            rows = rows[start : start + int(request.query_params.get("limit", "1000"))]
            if request.query_params.get("count", "").lower() == "true":
                return JSONResponse({"total": total, "schema": {}})
        body: dict[str, Any] = {"inventories": rows}
        if not uuid and request.query_params.get("replyWithCount", "").lower() == "true":
            body["total"] = total
        body["schema"] = {k: v for i, r in enumerate(rows) for k, v in vm_schema(f"inventories[{i}]", r).items()}
        return JSONResponse(body)

    # --- RPC ------------------------------------------------------------------------------------------

    def rpc_envelope(self, request: Request, job_uuid: str) -> dict[str, Any]:
        job = self.store.job(job_uuid)
        if job is None or job["state"] == "running":
            location = f"http://{request.headers.get('host', 'localhost')}/zstack/api/result/{job_uuid}"
            return {"uuid": job_uuid, "state": "Processing", "location": location}
        result = job["result"]
        reply = {"success": True, **result} if job["status"] == 200 else {"success": False, "error": result["error"]}
        return {"uuid": job_uuid, "state": "Done", "result": json.dumps({_event_class(job["api"]): reply})}

    async def rpc(self, request: Request, api: str, msg: dict[str, Any]) -> Reply:
        if api == LOGIN:
            session = self.login(msg.get("accountName"), msg.get("password"))
            reply: dict[str, Any] = (
                {"success": True, "inventory": session_inventory(session)}
                if session
                else {"success": False, "error": error_code("ID.1000", "wrong account name or password")}
            )
            result = json.dumps({"org.zstack.header.identity.APILogInReply": reply})
            return JSONResponse({"uuid": new_uuid(), "state": "Done", "result": result}), None, ""
        if api not in _RPC_ASYNC:
            reply = {"success": False, "error": error_code("SYS.1008", f"no service can deal with message[{api}]")}
            result = json.dumps({"org.zstack.header.message.APIReply": reply})
            return JSONResponse({"uuid": new_uuid(), "state": "Done", "result": result}), None, ""
        job_id = msg.get("id")
        job_uuid = job_id if isinstance(job_id, str) and len(job_id) == 32 else new_uuid()
        session = (msg.get("session") or {}).get("uuid") if isinstance(msg.get("session"), dict) else None
        message = {k: v for k, v in msg.items() if k not in ("session", "id", "timeout", "serviceId")}
        new = self.submit(api, message, job_uuid, session, "rpc")
        for _ in range(20):  # answer Done when the job ends within a second, else Processing
            job = self.store.job(job_uuid)
            if job is None or job["state"] != "running":
                break
            await asyncio.sleep(0.05)
        note = "" if new else "duplicate job uuid: nothing new"
        return JSONResponse(self.rpc_envelope(request, job_uuid)), job_uuid, note
