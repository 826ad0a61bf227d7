"""Is this already reported? Open requests of the same service close by.

Asks the back office with the geographic filter (lat, long, radius) the
reference server supports; a back office that ignores or refuses it is asked
for the service's recent open requests instead, filtered here by distance or,
without coordinates, by the same street address.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta, timezone
from typing import List, Optional

from bot.open311.client import Open311Client
from bot.open311.geo import haversine_m
from bot.open311.models import Open311Error, Open311Rejected, ServiceRequest
from bot.reports.answers import normalise
from bot.settings import settings

logger = logging.getLogger(__name__)

LOOKBACK_DAYS = 30


def radius_m() -> float:
    """DUPLICATE_RADIUS_METERS (default 50)."""
    return settings().duplicate_radius_meters


def _same_place(request: ServiceRequest, lat: Optional[float], long: Optional[float], address: Optional[str]) -> bool:
    if lat is not None and long is not None and request.has_location:
        return haversine_m(lat, long, request.lat, request.long) <= radius_m()  # type: ignore[arg-type]
    return bool(address and request.address and normalise(address) == normalise(request.address))


async def find_duplicate(
    client: Open311Client,
    service_code: str,
    lat: Optional[float] = None,
    long: Optional[float] = None,
    address: Optional[str] = None,
) -> Optional[ServiceRequest]:
    """The nearest open request of the same service at the same place, if any."""
    if lat is None and not address:
        return None
    since = datetime.now(timezone.utc) - timedelta(days=LOOKBACK_DAYS)
    candidates: List[ServiceRequest] = []
    try:
        if lat is not None and long is not None:
            try:
                candidates = await client.list_requests(
                    service_code=service_code, status="open", lat=lat, long=long, radius=radius_m()
                )
            except Open311Rejected:
                candidates = []  # no geographic filter there: fall back below
        if not candidates:
            candidates = await client.list_requests(service_code=service_code, status="open", start_date=since)
    except Open311Error as error:
        logger.info("duplicate check skipped: %s", error)
        return None
    matches = [
        r
        for r in candidates
        if r.is_open and r.service_code in (None, service_code) and _same_place(r, lat, long, address)
    ]
    if lat is not None and long is not None:
        matches.sort(key=lambda r: haversine_m(lat, long, r.lat, r.long) if r.has_location else math.inf)  # type: ignore[arg-type]
    return matches[0] if matches else None
