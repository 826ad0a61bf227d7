"""The back office's service list and definitions, cached for the action server.

Every question in a report comes from a service definition; fetching it once per
ten minutes instead of once per turn keeps a turn to one Open311 call at most.
While the back office is unreachable (timeout, refused, 5xx) the catalog comes
from `bot.reports.offline_catalog`, so reports are still drafted and stored in
the outbox; the back office is asked again after OFFLINE_RETRY_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Dict, List, Optional, Tuple

from bot.catalog import City
from bot.open311.client import Open311Client, client_from_env
from bot.open311.models import Open311Unavailable, Service, ServiceDefinition
from bot.reports import offline_catalog
from bot.reports.answers import match_choice, normalise

logger = logging.getLogger(__name__)

CACHE_SECONDS = 600.0
# How long an offline catalog stands in before the back office is asked again:
# short, so filing goes back to the real catalog soon, yet not every turn
# waits out a timeout.
OFFLINE_RETRY_SECONDS = 30.0


class ServiceDirectory:
    """Services and their definitions from one Open311 endpoint, with a short cache."""

    def __init__(
        self,
        client: Optional[Open311Client] = None,
        ttl: float = CACHE_SECONDS,
        offline_ttl: float = OFFLINE_RETRY_SECONDS,
        city: Optional[City] = None,
    ) -> None:
        self._client = client
        self._city = city  # the city file's catalog is the last resort (None: CITY_FILE)
        self._ttl = ttl
        self._offline_ttl = offline_ttl
        # Each cached answer with the monotonic time it expires at.
        self._services: Optional[Tuple[float, List[Service]]] = None
        self._definitions: Dict[str, Tuple[float, ServiceDefinition]] = {}
        self._lock = asyncio.Lock()

    @property
    def client(self) -> Open311Client:
        return self._client or client_from_env()

    @staticmethod
    def _fresh(expires: float) -> bool:
        return time.monotonic() < expires

    def _until(self, online: bool) -> float:
        return time.monotonic() + (self._ttl if online else self._offline_ttl)

    async def services(self) -> List[Service]:
        """All services the back office accepts requests for (its last known list while it is down)."""
        if self._services and self._fresh(self._services[0]):
            return self._services[1]
        async with self._lock:
            if not (self._services and self._fresh(self._services[0])):
                self._services = await self._fetch_services()
        return self._services[1]

    async def _fetch_services(self) -> Tuple[float, List[Service]]:
        endpoint = self.client.base_url
        try:
            services = await self.client.list_services()
        except Open311Unavailable as error:
            logger.warning("back office unreachable, drafting from the offline catalog: %s", error)
            return self._until(online=False), await offline_catalog.offline_services(endpoint, self._city)
        await offline_catalog.store_services(endpoint, services)
        return self._until(online=True), services

    async def service(self, code: str) -> Optional[Service]:
        """The service with this code, or None."""
        for service in await self.services():
            if service.service_code == code:
                return service
        return None

    async def definition(self, code: str) -> ServiceDefinition:
        """The questions a service asks; an empty definition when it has no metadata.

        While the back office is down: the definition it last gave, else the
        city file's; Open311Unavailable only when neither knows the service.
        """
        cached = self._definitions.get(code)
        if cached and self._fresh(cached[0]):
            return cached[1]
        service = await self.service(code)
        if service is not None and not service.metadata:
            self._definitions[code] = (self._until(online=True), ServiceDefinition(service_code=code, attributes=[]))
        else:
            self._definitions[code] = await self._fetch_definition(code)
        return self._definitions[code][1]

    async def _fetch_definition(self, code: str) -> Tuple[float, ServiceDefinition]:
        endpoint = self.client.base_url
        try:
            definition = await self.client.get_service_definition(code)
        except Open311Unavailable as error:
            offline = await offline_catalog.offline_definition(endpoint, code, self._city)
            if offline is None:
                raise
            logger.warning("back office unreachable, asking %s's offline questions: %s", code, error)
            return self._until(online=False), offline
        await offline_catalog.store_definition(endpoint, code, definition)
        return self._until(online=True), definition

    async def find(self, text: str) -> Optional[Service]:
        """The service a resident named in free text ("street light", "3"), if exactly one."""
        services = await self.services()
        # As the service buttons name them (actions/report_form.py): a service without a name by its code.
        names = [s.service_name or s.service_code for s in services]
        chosen = match_choice(text, names)
        if chosen is None:
            said = normalise(text)
            hits = [s for s in services if normalise(s.service_code) == said]
            return hits[0] if len(hits) == 1 else None
        return services[names.index(chosen)]


_directory: Optional[ServiceDirectory] = None


def directory() -> ServiceDirectory:
    """The process-wide directory for the configured back office."""
    global _directory
    if _directory is None:
        _directory = ServiceDirectory()
    return _directory


def reset_directory() -> None:
    """Forget cached services (tests point the assistant at a fresh back office)."""
    global _directory
    _directory = None
