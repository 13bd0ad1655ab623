"""The ticket-type registry (spec §6.5): which API names a type covers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zsticket.domain import errors

CREATE_VM_INSTANCE_TICKET_TYPE_UUID = "3b933e9aaf2d49b9a3dcf0c92867790f"
SYSTEM_DEFAULT_COLLECTION_UUID = "872c04e82fee40509447b9ec90fc5aa1"
ACCOUNT_SYSTEM_TYPE_IAM2 = "iam2"


@dataclass(frozen=True)
class TicketType:
    uuid: str
    name: str
    type: str
    description: str
    api_names: tuple[str, ...]
    admin_only: bool = False


BUILT_IN_TICKET_TYPES: tuple[TicketType, ...] = (
    TicketType(
        uuid=CREATE_VM_INSTANCE_TICKET_TYPE_UUID,
        name="CREATE_VM_INSTANCE_TICKET_TYPE",
        type="CREATE_VM_INSTANCE_TICKET_TYPE",
        description="create virtual machine instances",
        api_names=("org.zstack.header.vm.APICreateVmInstanceMsg",),
    ),
)


def match_ticket_type(types: Iterable[TicketType], api_names: Sequence[str]) -> TicketType:
    """The first type whose API names cover every requested API."""
    wanted = set(api_names)
    for ticket_type in types:
        if wanted <= set(ticket_type.api_names):
            return ticket_type
    raise errors.no_ticket_type()
