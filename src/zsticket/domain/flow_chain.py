"""A flow collection's approval chain: a linked list through ``parentFlowUuid`` (spec §6.1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class ChainLink(Protocol):
    @property
    def uuid(self) -> str: ...

    @property
    def parent_flow_uuid(self) -> str | None: ...


L = TypeVar("L", bound=ChainLink)


def order_chain(flows: Sequence[L]) -> list[L]:
    """Flows from the head (no parent) to the last step.

    Flows that do not hang off the head (a broken or cyclic chain) are appended in their
    given order, so that nothing is silently dropped from an inventory.
    """
    by_parent: dict[str | None, L] = {}
    for flow in flows:
        by_parent.setdefault(flow.parent_flow_uuid, flow)
    ordered: list[L] = []
    seen: set[str] = set()
    current = by_parent.get(None)
    while current is not None and current.uuid not in seen:
        ordered.append(current)
        seen.add(current.uuid)
        current = by_parent.get(current.uuid)
    ordered.extend(f for f in flows if f.uuid not in seen)
    return ordered


def parent_links(uuids: Sequence[str]) -> list[tuple[str, str | None]]:
    """(flow, parent) pairs for flows created from an ordered list: each step follows the previous."""
    return [(uuid, uuids[i - 1] if i else None) for i, uuid in enumerate(uuids)]
