"""Rules of executing a FinalApproved ticket's requests (spec §5.7), free of I/O."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_NAMESPACE = uuid.UUID("6f1c3f9e-2b7d-4c47-9a51-3b8f0c2d7e11")
REQUEST_RESULTS = "RequestResults"


class ExecutionState(StrEnum):
    WAITING = "Waiting"  # not sent yet, or sent and known not received
    RUNNING = "Running"  # sent at least once: resolve by asking the upstream about the job id
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


UNFINISHED = (ExecutionState.WAITING.value, ExecutionState.RUNNING.value)


def execution_job_uuid(
    *, ticket_uuid: str, request_index: int, execution_number: int, revision: int, salt: int = 0
) -> str:
    """The upstream ``X-Job-UUID``: the same call always gets the same id, so a retry finds its result.

    ``salt`` changes only when the upstream proved the previous id was not executed (a refused
    session), because ZStack keeps even failed job ids and would call a reuse a duplicate.
    """
    key = f"{ticket_uuid}/{request_index}/{execution_number}/{revision}/{salt}"
    return uuid.uuid5(_NAMESPACE, key).hex


def backoff_seconds(attempts: int, *, base: float = 0.5, cap: float = 60.0) -> float:
    """Capped exponential backoff for transient upstream failures."""
    return float(min(cap, base * (2 ** max(0, attempts - 1))))


@dataclass(frozen=True)
class FinishedCall:
    request_index: int
    request_name: str | None
    succeeded: bool
    error: dict[str, Any] | None


def request_results(
    calls: Iterable[FinishedCall], request_count: int, names: Sequence[str | None]
) -> list[dict[str, Any]]:
    """``operationContext.requestResults``: per request, success and failure counts and the errors."""
    successes = [0] * request_count
    failures = [0] * request_count
    errors: list[list[dict[str, Any]]] = [[] for _ in range(request_count)]
    for call in calls:
        if call.succeeded:
            successes[call.request_index] += 1
        else:
            failures[call.request_index] += 1
            if call.error is not None:
                errors[call.request_index].append(call.error)
    return [
        {"requestName": names[i], "successTimes": successes[i], "failureTimes": failures[i], "errors": errors[i]}
        for i in range(request_count)
    ]
