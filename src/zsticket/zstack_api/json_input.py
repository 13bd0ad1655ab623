"""Client JSON and URL text that every layer below can store and echo back.

``json.loads`` alone accepts ``NaN``/``Infinity`` (which would then be echoed as invalid JSON),
nesting deep enough to exhaust the recursion of later serialisation, and strings with NUL or
unpaired surrogates (which PostgreSQL, or UTF-8 encoding of the reply, refuse). Such input is
refused here, so that it is an argument error on every database instead of an internal error.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 100  # ZStack bodies nest a few levels; this is far above any real one
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> bool:
    """True for text with a NUL character or an unpaired surrogate."""
    return _UNSTORABLE.search(text) is not None


def problem_of(value: Any) -> str | None:
    """Why ``value`` (parsed JSON) cannot be accepted, or None; iterative, so any depth is safe."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"it is nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, str):
            if unstorable(item):
                return "it contains a NUL character or an unpaired surrogate"
        elif isinstance(item, dict):
            for key, member in item.items():
                if unstorable(key):
                    return "it contains a NUL character or an unpaired surrogate"
                stack.append((member, depth + 1))
        elif isinstance(item, list):
            stack.extend((member, depth + 1) for member in item)
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def loads(raw: bytes | str) -> Any:
    """Standard JSON only; raises ``ValueError`` (or ``RecursionError``) with the reason."""
    value = json.loads(raw, parse_constant=_refuse_constant)
    problem = problem_of(value)
    if problem is not None:
        raise ValueError(problem)
    return value
