"""Finding services in the catalogue by what a caller says: the name, a keyword, the description."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.catalogue_file import Service


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def search_services(services: Sequence[Service], query: str) -> list[Service]:
    """The services matching every word of ``query``, best first.

    A word matches the start of a word of the service's name or keywords ("couch" finds a
    service whose keywords hold "couch", "bul it" finds Bulky Items); the description counts
    only when nothing else does. Ranked: a name starting with the query, then name matches,
    then keyword matches, then description matches; the catalogue's order within each.
    """
    wanted = _words(query)
    if not wanted:
        return list(services)
    ranked: list[tuple[int, int, Service]] = []
    for position, service in enumerate(services):
        name = _words(service.name)
        keywords = [w for k in service.keywords for w in _words(k)]
        described = _words(service.description or "")

        def found(words: list[str]) -> bool:
            return all(any(w.startswith(q) for w in words) for q in wanted)

        if " ".join(name).startswith(" ".join(wanted)):
            rank = 0
        elif found(name):
            rank = 1
        elif found(name + keywords):
            rank = 2
        elif found(name + keywords + described):
            rank = 3
        else:
            continue
        ranked.append((rank, position, service))
    return [service for _, _, service in sorted(ranked, key=lambda item: item[:2])]
