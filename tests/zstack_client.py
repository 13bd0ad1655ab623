"""A test client that speaks ZStack's REST v1 exactly as the SDKs do (202 + api-jobs polling)."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx

ADMIN_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
VM_TICKET_TYPE = "3b933e9aaf2d49b9a3dcf0c92867790f"
SYSTEM_COLLECTION = "872c04e82fee40509447b9ec90fc5aa1"
CREATE_VM = "org.zstack.header.vm.APICreateVmInstanceMsg"


def sha512(plain: str) -> str:
    return hashlib.sha512(plain.encode()).hexdigest()


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def vm_request(name: str = "vm1", times: int = 1) -> dict[str, Any]:
    """The seed request of the UpdateTicketRequest page."""
    return {
        "requestName": "create vm",
        "apiName": CREATE_VM,
        "executeTimes": times,
        "apiBody": {
            "name": name,
            "instanceOfferingUuid": "9a0b2c4e6f8a4b1c8d2e3f4a5b6c7d8e",
            "imageUuid": "1f2e3d4c5b6a47988a7b6c5d4e3f2a1b",
            "l3NetworkUuids": ["0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d"],
            "strategy": "InstantStart",
        },
    }


@dataclass
class Reply:
    status: int
    body: Any

    @property
    def error(self) -> dict[str, Any]:
        assert isinstance(self.body, dict) and "error" in self.body, f"expected an error, got {self.status} {self.body}"
        return self.body["error"]  # type: ignore[no-any-return]

    @property
    def inventory(self) -> dict[str, Any]:
        assert self.status == 200, f"expected success, got {self.status} {self.body}"
        return self.body["inventory"]  # type: ignore[no-any-return]

    @property
    def inventories(self) -> list[dict[str, Any]]:
        assert self.status == 200, f"expected success, got {self.status} {self.body}"
        return self.body["inventories"]  # type: ignore[no-any-return]

    def expect_error(self, code: str, details: str | None = None) -> dict[str, Any]:
        assert self.status == 503, f"expected 503 {code}, got {self.status} {self.body}"
        error = self.error
        assert error["code"] == code, error
        if details is not None:
            assert error["details"] == details, f"{error['details']!r} != {details!r}"
        return error


class ZStackClient:
    def __init__(self, base_url: str, session: str | None = None) -> None:
        self.base_url = base_url
        self.session = session
        self.http = httpx.Client(base_url=f"{base_url}/zstack/v1", timeout=60)

    def close(self) -> None:
        self.http.close()

    def as_session(self, session: str | None) -> ZStackClient:
        return ZStackClient(self.base_url, session)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Content-Type": "application/json;charset=UTF-8"}
        if self.session is not None:
            headers["Authorization"] = f"OAuth {self.session}"
        headers.update(extra or {})
        return headers

    # --- login ------------------------------------------------------------------------------------

    def login_account(self, name: str, password: str) -> Reply:
        response = self.http.put(
            "/accounts/login",
            json={"logInByAccount": {"accountName": name, "password": sha512(password)}},
        )
        return Reply(response.status_code, response.json())

    def login_vid(self, name: str, password: str) -> Reply:
        response = self.http.put(
            "/iam2/virtual-ids/login", json={"loginIAM2VirtualID": {"name": name, "password": sha512(password)}}
        )
        return Reply(response.status_code, response.json())

    # --- async calls --------------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.http.request(method, path, json=body, params=params, headers=self._headers(headers))

    def poll(self, location: str, timeout: float = 30) -> Reply:
        deadline = time.monotonic() + timeout
        while True:
            response = httpx.get(location, timeout=30)
            if response.status_code != 202:
                body = (
                    response.json()
                    if response.headers.get("content-type", "").startswith("application/json")
                    else response.text
                )
                return Reply(response.status_code, body)
            if time.monotonic() > deadline:
                raise TimeoutError(location)
            time.sleep(0.05)

    def call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """An async API call: expects 202 + location, then polls to the result."""
        response = self.send(method, path, body=body, params=params, headers=headers)
        assert response.status_code == 202, f"{method} {path}: {response.status_code} {response.text}"
        location = response.json()["location"]
        assert "/zstack/v1/api-jobs/" in location
        return self.poll(location)

    def post(self, path: str, params: dict[str, Any], **top: Any) -> Reply:
        return self.call("POST", path, body={"params": params, **top})

    def action(self, path: str, wrapper: str, fields: dict[str, Any], **top: Any) -> Reply:
        return self.call("PUT", path, body={wrapper: fields, **top})

    def delete(self, path: str, **params: Any) -> Reply:
        return self.call("DELETE", path, params=params or None)

    def query(self, path: str, *conditions: str, **params: Any) -> Reply:
        query: list[tuple[str, Any]] = [("q", c) for c in conditions]
        query += [(k, v) for k, v in params.items()]
        response = self.http.get(path, params=query, headers=self._headers())
        body = (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else response.text
        )
        return Reply(response.status_code, body)


# --- the older RPC endpoint (zstack-rpc-endpoint.md) ------------------------------------------------


def rpc_call(
    base_url: str, class_name: str, msg: dict[str, Any], *, path: str = "/zstack/api"
) -> tuple[dict[str, Any], Any]:
    """``POST /zstack/api`` with ``{class_name: msg}``; returns the envelope and its decoded ``result``."""
    response = httpx.post(f"{base_url}{path}", json={class_name: msg}, timeout=60)
    assert response.status_code == 200, f"{class_name}: {response.status_code} {response.text}"
    envelope = response.json()
    return envelope, json.loads(envelope["result"])
