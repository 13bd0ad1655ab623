"""ZStack REST routes of the APIs that tickets execute (placeholder until the SDK-verified table lands)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ZStackRoute:
    api_name: str
    method: str
    path: str
    wrapper: str | None
    needs_poll: bool


ROUTES: dict[str, ZStackRoute] = {
    r.api_name: r
    for r in (ZStackRoute("org.zstack.header.vm.APICreateVmInstanceMsg", "POST", "/vm-instances", "params", True),)
}


def route_for(api_name: str) -> ZStackRoute | None:
    return ROUTES.get(api_name)
