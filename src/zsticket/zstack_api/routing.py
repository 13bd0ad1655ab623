"""REST v1 route table built from the API catalogue; literal segments win over ``{variables}``."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from zsticket.messages.spec import ApiSpec

_VARIABLE = re.compile(r"\{(\w+)\}")


@dataclass
class RouteTemplate:
    template: str
    pattern: re.Pattern[str]
    literal_segments: int
    by_method: dict[str, list[ApiSpec]] = field(default_factory=lambda: defaultdict(list))
    optional_for: set[str] = field(default_factory=set)  # class names reached through an optional path


@dataclass(frozen=True)
class Match:
    route: RouteTemplate
    variables: dict[str, str]


def _compile(template: str) -> RouteTemplate:
    parts: list[str] = []
    literals = 0
    for segment in template.strip("/").split("/"):
        variable = _VARIABLE.fullmatch(segment)
        if variable is None:
            parts.append(re.escape(segment))
            literals += 1
        else:
            parts.append(f"(?P<{variable.group(1)}>[^/]+)")
    pattern = re.compile("^/" + "/".join(parts) + "/?$")
    return RouteTemplate(template=template, pattern=pattern, literal_segments=literals)


class RouteTable:
    def __init__(self, apis: Iterable[ApiSpec]) -> None:
        templates: dict[str, RouteTemplate] = {}
        for api in apis:
            for path in (api.path, *api.optional_paths):
                route = templates.setdefault(path, _compile(path))
                route.by_method[api.method].append(api)
                if path != api.path:
                    route.optional_for.add(api.class_name)
        # Most literal segments first, so /tickets/histories beats /tickets/{uuid}.
        self.routes = sorted(templates.values(), key=lambda r: (-r.literal_segments, r.template))

    def match(self, path: str) -> Match | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found is not None:
                return Match(route, found.groupdict())
        return None
