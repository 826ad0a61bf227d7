"""The back office's service list and definitions, cached for the action server.

Every question in a report comes from a service definition; fetching it once per
ten minutes instead of once per turn keeps a turn to one Open311 call at most.
"""
from __future__ import annotations

import asyncio
import time
from typing import Dict, List, Optional, Tuple

from bot.open311.client import Open311Client, client_from_env
from bot.open311.models import Service, ServiceDefinition
from bot.reports.answers import match_choice, normalise

CACHE_SECONDS = 600.0


class ServiceDirectory:
    """Services and their definitions from one Open311 endpoint, with a short cache."""

    def __init__(self, client: Optional[Open311Client] = None, ttl: float = CACHE_SECONDS) -> None:
        self._client = client
        self._ttl = ttl
        self._services: Optional[Tuple[float, List[Service]]] = None
        self._definitions: Dict[str, Tuple[float, ServiceDefinition]] = {}
        self._lock = asyncio.Lock()

    @property
    def client(self) -> Open311Client:
        return self._client or client_from_env()

    def _fresh(self, stamp: float) -> bool:
        return time.monotonic() - stamp < self._ttl

    async def services(self) -> List[Service]:
        """All services the back office accepts requests for."""
        if self._services and self._fresh(self._services[0]):
            return self._services[1]
        async with self._lock:
            if not (self._services and self._fresh(self._services[0])):
                self._services = (time.monotonic(), await self.client.list_services())
        return self._services[1]

    async def service(self, code: str) -> Optional[Service]:
        """The service with this code, or None."""
        for service in await self.services():
            if service.service_code == code:
                return service
        return None

    async def definition(self, code: str) -> ServiceDefinition:
        """The questions a service asks; an empty definition when it has no metadata."""
        cached = self._definitions.get(code)
        if cached and self._fresh(cached[0]):
            return cached[1]
        service = await self.service(code)
        if service is not None and not service.metadata:
            definition = ServiceDefinition(service_code=code, attributes=[])
        else:
            definition = await self.client.get_service_definition(code)
        self._definitions[code] = (time.monotonic(), definition)
        return definition

    async def find(self, text: str) -> Optional[Service]:
        """The service a resident named in free text ("street light", "3"), if exactly one."""
        services = await self.services()
        names = [s.service_name for s in services]
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
