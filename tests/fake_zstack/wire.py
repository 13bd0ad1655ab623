"""ZStack wire details the stand-in renders: uuids, dates, ErrorCodes, inventories."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from typing import Any

ADMIN_ACCOUNT_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
CREATE_VM = "org.zstack.header.vm.APICreateVmInstanceMsg"
START_VM = "org.zstack.header.vm.APIStartVmInstanceMsg"
STOP_VM = "org.zstack.header.vm.APIStopVmInstanceMsg"
REBOOT_VM = "org.zstack.header.vm.APIRebootVmInstanceMsg"
DESTROY_VM = "org.zstack.header.vm.APIDestroyVmInstanceMsg"
QUERY_VM = "org.zstack.header.vm.APIQueryVmInstanceMsg"
LOGIN = "org.zstack.header.identity.APILogInByAccountMsg"
RENEW_SESSION = "org.zstack.header.identity.APIRenewSessionMsg"
LOGOUT = "org.zstack.header.identity.APILogOutMsg"
VALIDATE_SESSION = "org.zstack.header.identity.APIValidateSessionMsg"
VM_INVENTORY = "org.zstack.header.vm.VmInstanceInventory"
NIC_INVENTORY = "org.zstack.header.vm.VmNicInventory"
SESSION_INVENTORY = "org.zstack.header.identity.SessionInventory"

_ZSTACK_UUID = re.compile(r"^[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DESCRIPTIONS = {
    "SYS.1000": "An internal error happened in system",
    "SYS.1003": "A resource can not be found",
    "SYS.1006": "An operation failed",
    "SYS.1007": "One or more API argument is invalid",
    "SYS.1008": "Unknown message, no service can deal with the message",
    "SYS.1014": "The operation is not implemented or not supported yet",
    "ID.1000": "Unable to authenticate a user",
    "ID.1001": "The session is invalid, either wrong session id or the session has been expired",
}


def new_uuid() -> str:
    """``Platform.getUuid()``: a version-4 uuid, 32 lowercase hex digits."""
    return uuid.uuid4().hex


def is_zstack_uuid(value: object) -> bool:
    return isinstance(value, str) and _ZSTACK_UUID.match(value) is not None


def sha512(plain: str) -> str:
    return hashlib.sha512(plain.encode()).hexdigest()


def account_uuid(name: str) -> str:
    """``admin`` has ZStack's fixed uuid; other accounts a stable uuid derived from the name."""
    if name == "admin":
        return ADMIN_ACCOUNT_UUID
    return uuid.UUID(hashlib.md5(name.encode()).hexdigest(), version=4).hex


def zstack_date(epoch: float) -> str:
    """Gson's default ``MMM d, yyyy h:mm:ss a`` in local time, independent of the process locale."""
    t = time.localtime(epoch)
    hour = t.tm_hour % 12 or 12
    half = "AM" if t.tm_hour < 12 else "PM"
    return f"{_MONTHS[t.tm_mon - 1]} {t.tm_mday}, {t.tm_year} {hour}:{t.tm_min:02d}:{t.tm_sec:02d} {half}"


def error_code(code: str, details: str, description: str | None = None) -> dict[str, Any]:
    description = description or _DESCRIPTIONS.get(code, "An operation failed")
    return {"code": code, "description": description, "details": details}


def complete_error(error: dict[str, Any]) -> dict[str, Any]:
    """An injected ErrorCode with ``description`` and ``details`` filled in when the caller left them out."""
    code = str(error.get("code", "SYS.1006"))
    filled = error_code(code, str(error.get("details", "injected failure")), error.get("description"))
    return {**error, **filled}


def session_inventory(session: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": session["uuid"],
        "accountUuid": session["account_uuid"],
        "userUuid": session["account_uuid"],
        "expiredDate": zstack_date(session["expires_at"]),
        "createDate": zstack_date(session["created_at"]),
        "noSessionEvaluation": False,
    }


def missing_field(field: str, api: str) -> dict[str, Any]:
    return error_code("SYS.1007", f"field[{field}] of message[{api}] is mandatory, can not be null")


def validate_create_vm(params: dict[str, Any]) -> dict[str, Any] | None:
    """The checks ``APICreateVmInstanceMsg`` makes before any resource lookup; an ErrorCode or ``None``."""
    for field in ("name", "imageUuid"):
        if not isinstance(params.get(field), str) or not params[field]:
            return missing_field(field, CREATE_VM)
    l3s = params.get("l3NetworkUuids")
    if not isinstance(l3s, list) or not l3s:
        return missing_field("l3NetworkUuids", CREATE_VM)
    resource_uuid = params.get("resourceUuid")
    if resource_uuid not in (None, "") and not is_zstack_uuid(resource_uuid):
        return error_code("SYS.1007", f"resourceUuid[{resource_uuid}] is not a valid uuid")
    strategy = params.get("strategy") or "InstantStart"
    if strategy not in ("InstantStart", "JustCreate", "CreateStopped"):
        return error_code("SYS.1007", "valid value for field[strategy] are [InstantStart, JustCreate, CreateStopped]")
    return None


def vm_inventory(params: dict[str, Any], now: float) -> dict[str, Any]:
    """A ``VmInstanceInventory`` for a new VM: the given fields, state Running (Stopped for CreateStopped)."""
    vm_uuid = params.get("resourceUuid") or new_uuid()
    l3s: list[str] = list(params["l3NetworkUuids"])
    strategy = params.get("strategy") or "InstantStart"
    inventory: dict[str, Any] = {
        "uuid": vm_uuid,
        "name": params["name"],
        "type": params.get("type") or "UserVm",
        "hypervisorType": "KVM",
        "state": "Stopped" if strategy == "CreateStopped" else "Running",
        "imageUuid": params["imageUuid"],
        "defaultL3NetworkUuid": params.get("defaultL3NetworkUuid") or l3s[0],
        "allocatorStrategy": "LastHostPreferredAllocatorStrategy",
        "platform": "Linux",
        "createDate": zstack_date(now),
        "lastOpDate": zstack_date(now),
        "vmNics": [
            {"uuid": new_uuid(), "vmInstanceUuid": vm_uuid, "l3NetworkUuid": l3, "deviceId": i}
            for i, l3 in enumerate(l3s)
        ],
    }
    for field in ("description", "instanceOfferingUuid", "zoneUuid", "clusterUuid", "hostUuid", "cpuNum", "memorySize"):
        if params.get(field) not in (None, ""):
            inventory[field] = params[field]
    return inventory


def vm_schema(prefix: str, inventory: dict[str, Any]) -> dict[str, str]:
    """``schema`` entries for one VM inventory at ``prefix`` (parents before children)."""
    schema = {prefix: VM_INVENTORY}
    for i, _ in enumerate(inventory.get("vmNics", [])):
        schema[f"{prefix}.vmNics[{i}]"] = NIC_INVENTORY
    return schema
