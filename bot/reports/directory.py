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
from typing import Dict, List, Optional, Sequence, Tuple

from bot.catalog import City, load_city
from bot.i18n.city import service_text
from bot.i18n.languages import city_languages, resident_language
from bot.open311.client import Open311Client, client_from_env
from bot.open311.models import Open311Unavailable, Service, ServiceDefinition
from bot.reports import offline_catalog
from bot.reports.answers import match_choice
from bot.reports.vocabulary import contains_phrase, normalise

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

    async def find(self, text: str, language: Optional[str] = None) -> Optional[Service]:
        """The service a resident named in free text ("street light", "3", "bache"), if exactly one.

        Its code ("POTHOLE", what the service buttons send), then its name as
        `language`'s resident reads it, the back office's name, and its name in
        the city's other languages.
        """
        services = await self.services()
        said = normalise(text)
        by_code = [s for s in services if normalise(s.service_code) == said]
        if said and len(by_code) == 1:
            return by_code[0]
        for names in _names_to_try(services, resident_language(language)):
            chosen = match_choice(text, names)
            if chosen is not None:
                return services[names.index(chosen)]
        return None

    async def find_by_keyword(self, text: str) -> Optional[Service]:
        """The one service whose keywords the text holds ("hole in road", "hoyo en la calle"), if exactly one.

        The back office's keywords and the city file's translated ones
        (`translations: <lang>: services: CODE: keywords`). Looser than `find`:
        only for a message that answers the question, not one that asks for
        something else (an emergency can mention a hydrant).
        """
        said = normalise(text)
        services = await self.services()
        hits = [s for s in services if any(contains_phrase(said, word) for word in _keywords(s))]
        return hits[0] if said and len(hits) == 1 else None


def shown_name(service: Service, language: str) -> str:
    """A service as a resident of `language` reads it (a service without a name: its code)."""
    back_office = service.service_name or service.service_code
    return service_text(language, service.service_code, "name", back_office) or back_office


def _names_to_try(services: Sequence[Service], language: str) -> List[List[str]]:
    """The services' names, one list per wording, in the order a resident's words are tried."""
    others = [code for code in city_languages() if code != language]
    lists = [[shown_name(s, language) for s in services], [s.service_name or s.service_code for s in services]]
    lists += [[shown_name(s, other) for s in services] for other in others]
    return lists


def _keywords(service: Service) -> List[str]:
    """The back office's keywords and the city file's translated ones.

    (`translations: <lang>: services: CODE: keywords`, a list: bot/i18n/city.py reads only texts.)
    """
    words = list(service.keywords)
    for language in city_languages():
        texts = (load_city().translations.get(language) or {}).get("services") or {}
        words.extend(str(word) for word in (texts.get(service.service_code) or {}).get("keywords") or [])
    return [said for said in (normalise(word) for word in words) if said]


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
