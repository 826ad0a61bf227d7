"""The service catalog to draft reports from while the back office is unreachable.

Every list of services and every service definition the back office answers is
kept in the database (`bot.db.schema.open311_catalog`), per endpoint, so that
after a restart or a long outage the form still asks the city's questions. A
fresh install that never reached its back office uses the city file's catalog
(CITY_FILE), rendered by the reference server's own payload functions and
parsed like a real answer, so its choice keys are the ones filing will need.
The outbox then files the report once the back office is back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any, List, Optional

import sqlalchemy as sa

from bot.catalog import CatalogService, City, load_city
from bot.db.engine import database, upsert_row, utcnow
from bot.db.schema import open311_catalog
from bot.open311.models import Service, ServiceAttribute, ServiceDefinition
from bot.open311.parse import parse_service_definition, parse_services
from bot.open311.server import definition_payload, service_payload

logger = logging.getLogger(__name__)

SERVICES = "services"


def definition_resource(code: str) -> str:
    return f"services/{code}"


# --- the database -----------------------------------------------------------------------


async def _store(endpoint: str, resource: str, payload: Any) -> None:
    """Keep one answer of the back office (upsert); a failure only costs the offline copy."""
    body = json.dumps(payload)
    key = {"endpoint": endpoint, "resource": resource}
    values = {"body": body, "fetched_at": utcnow()}
    try:
        await database().run(lambda c: upsert_row(c, open311_catalog, key, values))
    except sa.exc.SQLAlchemyError as error:
        logger.warning("could not keep the back office's %s offline: %s", resource, type(error).__name__)


async def _stored(endpoint: str, resource: str) -> Optional[Any]:
    """The last stored answer, or None (also when the database cannot be read: the city file then serves)."""
    key = (open311_catalog.c.endpoint == endpoint) & (open311_catalog.c.resource == resource)
    try:
        row = await database().run(lambda c: c.execute(sa.select(open311_catalog.c.body).where(key)).first())
    except sa.exc.SQLAlchemyError as error:
        logger.warning("could not read the offline copy of %s: %s", resource, type(error).__name__)
        return None
    return json.loads(row.body) if row else None


async def store_services(endpoint: str, services: List[Service]) -> None:
    await _store(endpoint, SERVICES, [asdict(s) for s in services])


async def store_definition(endpoint: str, code: str, definition: ServiceDefinition) -> None:
    """Keep the definition under the code it was asked for (the one it will be looked up by)."""
    await _store(endpoint, definition_resource(code), asdict(definition))


async def stored_services(endpoint: str) -> Optional[List[Service]]:
    """The service list this endpoint last answered, or None if it never did."""
    raw = await _stored(endpoint, SERVICES)
    return None if raw is None else [Service(**entry) for entry in raw]


async def stored_definition(endpoint: str, code: str) -> Optional[ServiceDefinition]:
    """The definition of `code` this endpoint last answered, or None."""
    raw = await _stored(endpoint, definition_resource(code))
    if raw is None:
        return None
    attributes = [
        ServiceAttribute(**{**entry, "values": [tuple(pair) for pair in entry.get("values", [])]})
        for entry in raw.get("attributes", [])
    ]
    return ServiceDefinition(service_code=raw["service_code"], attributes=attributes)


# --- the city file ----------------------------------------------------------------------


def city_services(city: City) -> List[Service]:
    """The city file's services exactly as the reference server lists them."""
    return parse_services(json.dumps([service_payload(s) for s in city.services]), "json")


def city_definition(service: CatalogService) -> ServiceDefinition:
    """A city file service's questions exactly as the reference server defines them (same choice keys)."""
    return parse_service_definition(json.dumps(definition_payload(service)), "json")


# --- what the directory uses ------------------------------------------------------------


async def offline_services(endpoint: str, city: Optional[City] = None) -> List[Service]:
    """The stored service list, else the city file's."""
    stored = await stored_services(endpoint)
    if stored is not None:
        return stored
    return city_services(city or load_city())


async def offline_definition(endpoint: str, code: str, city: Optional[City] = None) -> Optional[ServiceDefinition]:
    """The stored definition of `code`, else the city file's, else None."""
    stored = await stored_definition(endpoint, code)
    if stored is not None:
        return stored
    known = (city or load_city()).service(code)
    return city_definition(known) if known else None
