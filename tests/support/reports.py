"""Reports as the back office sees them: their request numbers, their stored rows, fresh addresses."""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Optional

import yaml

from bot.catalog import DEFAULT_CITY_FILE
from bot.open311.store import RequestStore, StoredRequest
from tests.support.city import use_city_text


def stored(stack, request_id: str) -> Optional[StoredRequest]:
    """The request as the reference back office stored it (attributes and contact included)."""

    async def read() -> Optional[StoredRequest]:
        async with RequestStore(stack.var_dir / "open311.db") as store:
            return await store.get(request_id)

    return asyncio.run(read())


def request_number(reply: str) -> str:
    """The request number the assistant gave the resident in `reply`."""
    match = re.search(r"request number is (\w[\w-]*)", reply)
    assert match, f"no request number in: {reply!r}"
    return match.group(1)


_street_numbers = itertools.count(100)


def unique_address() -> str:
    """A new address per report, so no report looks like a duplicate of another."""
    return f"{next(_street_numbers)} Elm Street"


# Spanish texts for a few Riverton services, written by the tests themselves (the
# project's city file gets its own translations; these tests must not depend on them).
SPANISH = {
    "POTHOLE": {
        "name": "Bache",
        "agency": "Departamento de Obras Públicas",
        "attributes": {
            "size": {
                "name": "tamaño",
                "description": "¿Qué tan grande es?",
                "values": {
                    "small (smaller than a dinner plate)": "pequeño (más chico que un plato)",
                    "medium (up to a car tire)": "mediano (hasta una llanta de carro)",
                    "large (bigger than a car tire)": "grande (más grande que una llanta de carro)",
                },
            },
            "lane": {
                "description": "¿En qué parte de la calle está?",
                "values": {"traffic lane": "carril de autos", "bike lane": "ciclovía", "crosswalk": "cruce peatonal"},
            },
        },
    },
    "ABANDONED_VEHICLE": {
        "name": "Vehículo abandonado",
        "attributes": {"days_parked": {"description": "¿Más o menos cuántos días lleva ahí?"}},
    },
    "MISSED_TRASH": {"name": "Basura que no recogieron", "keywords": ["no pasó el camión"]},
}


def use_spanish_riverton(monkeypatch, tmp_path) -> None:
    """Riverton's city file with the test's own Spanish translations (`SPANISH`), loaded afresh."""
    raw = yaml.safe_load(DEFAULT_CITY_FILE.read_text(encoding="utf-8"))
    raw["translations"] = {"es": {"services": SPANISH}}
    use_city_text(monkeypatch, tmp_path, yaml.safe_dump(raw, allow_unicode=True))
