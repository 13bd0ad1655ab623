"""Helpers for tests that execute approved tickets against the ZStack stand-in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.world import TwoStep, World
from tests.zstack_client import ZStackClient

T = TypeVar("T")
REQUEST_RESULTS = "RequestResults"


def wait_for(probe: Callable[[], T | None], *, timeout: float = 30, interval: float = 0.1, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or probe}")
        time.sleep(interval)


def vm(name: str, times: int, request_name: str | None = None) -> dict[str, Any]:
    return {
        "requestName": request_name or f"create {name}",
        "apiName": "org.zstack.header.vm.APICreateVmInstanceMsg",
        "executeTimes": times,
        "apiBody": {
            "name": name,
            "instanceOfferingUuid": "9a0b2c4e6f8a4b1c8d2e3f4a5b6c7d8e",
            "imageUuid": "1f2e3d4c5b6a47988a7b6c5d4e3f2a1b",
            "l3NetworkUuids": ["0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d"],
        },
    }


def approve_fully(cast: TwoStep, requests: list[dict[str, Any]]) -> dict[str, Any]:
    ticket = cast.submitter.client.post("/tickets", cast.ticket_params(requests=requests)).inventory
    cast.change(cast.first, ticket["uuid"], "approve")
    final = cast.change(cast.last, ticket["uuid"], "approve").inventory
    assert final["status"] == "FinalApproved"
    return ticket


def results_record(admin: ZStackClient, ticket_uuid: str) -> dict[str, Any] | None:
    histories = admin.query("/tickets/histories", f"ticketUuid={ticket_uuid}", "operationContextType=RequestResults")
    found = histories.inventories
    assert len(found) <= 1, found
    return found[0] if found else None


def wait_for_results(admin: ZStackClient, ticket_uuid: str, timeout: float = 60) -> dict[str, Any]:
    return wait_for(lambda: results_record(admin, ticket_uuid), timeout=timeout, what=f"results of {ticket_uuid}")


def admin_world(base_url: str, admin_password: str) -> World:
    admin = ZStackClient(base_url)
    admin.session = admin.login_account("admin", admin_password).inventory["uuid"]
    return World(admin)
