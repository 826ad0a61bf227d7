"""The reference server's service requests, on SQLAlchemy Core: a SQLite file, or PostgreSQL by URL.

A city without an Open311 back office still needs reports to survive a
restart. Calls run in a worker thread (`asyncio.to_thread`), so the server's
event loop never blocks on the database; opening the store brings its schema
(`bot.open311.schema`) to the newest of its own migrations.

A report may carry an idempotency key (unique across the table): filing it again
under the same key returns the first report instead of storing a second one.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar, Union

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.db.engine import create_engine
from bot.db.migrate import OPEN311, ensure_head
from bot.open311.geo import EARTH_RADIUS_M, haversine_m
from bot.open311.schema import requests

T = TypeVar("T")
AttributeValue = Union[str, List[str]]

STATUSES = ("open", "closed")


def utc_w3(moment: datetime) -> str:
    """The one datetime format stored and served: UTC, seconds, explicit +00:00 offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class NewRequest:
    """A validated report, ready to store (the server decides service name, agency and deadline)."""

    service_code: str
    service_name: str
    agency_responsible: Optional[str] = None
    service_notice: Optional[str] = None
    expected_after: Optional[timedelta] = None
    description: Optional[str] = None
    address: Optional[str] = None
    address_id: Optional[str] = None
    zipcode: Optional[str] = None
    lat: Optional[float] = None
    long: Optional[float] = None
    media_url: Optional[str] = None
    attributes: Dict[str, AttributeValue] = field(default_factory=dict)
    email: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    phone: Optional[str] = None
    device_id: Optional[str] = None
    account_id: Optional[str] = None


PUBLIC_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)


@dataclass(frozen=True)
class StoredRequest:
    """A stored report, including what must never be published (contact details, token)."""

    service_request_id: str
    token: str
    status: str
    status_notes: Optional[str]
    service_name: str
    service_code: str
    description: Optional[str]
    agency_responsible: Optional[str]
    service_notice: Optional[str]
    requested_datetime: str
    updated_datetime: str
    expected_datetime: Optional[str]
    address: Optional[str]
    address_id: Optional[str]
    zipcode: Optional[str]
    lat: Optional[float]
    long: Optional[float]
    media_url: Optional[str]
    attributes: Dict[str, AttributeValue]
    email: Optional[str]
    first_name: Optional[str]
    last_name: Optional[str]
    phone: Optional[str]
    device_id: Optional[str]
    account_id: Optional[str]

    def public(self) -> Dict[str, Any]:
        """The fields GET requests publishes, in spec order: no contact details, no token."""
        return {name: getattr(self, name) for name in PUBLIC_FIELDS}


@dataclass(frozen=True)
class Near:
    """Within `radius_m` meters of a point."""

    lat: float
    long: float
    radius_m: float


@dataclass(frozen=True)
class RequestQuery:
    """Filters combined with AND; empty sequences and None mean 'any'. Newest first."""

    ids: Sequence[str] = ()
    service_codes: Sequence[str] = ()
    statuses: Sequence[str] = ()
    start: Optional[datetime] = None
    end: Optional[datetime] = None
    near: Optional[Near] = None
    limit: int = 1000


def _int_id(request_id: str) -> Optional[int]:
    """Ids are numeric strings; anything else cannot match a stored request."""
    text = request_id.strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


def _bounding_box(near: Near) -> List[Any]:
    """SQL conditions no point within `near` fails (the exact distance is checked in Python)."""
    spread = math.degrees(near.radius_m / EARTH_RADIUS_M)
    conditions: List[Any] = [requests.c.lat.between(near.lat - spread, near.lat + spread)]
    widest = abs(near.lat) + spread
    if widest < 89:
        long_spread = spread / math.cos(math.radians(widest))
        if -180 <= near.long - long_spread and near.long + long_spread <= 180:  # no wrap around the antimeridian
            conditions.append(requests.c.long.between(near.long - long_spread, near.long + long_spread))
    return conditions


def _is_near(row: Any, near: Near) -> bool:
    if row.lat is None or row.long is None:
        return False
    return haversine_m(near.lat, near.long, float(row.lat), float(row.long)) <= near.radius_m


def _row_to_request(row: Any) -> StoredRequest:
    values = {
        f.name: row._mapping[f.name]
        for f in fields(StoredRequest)
        if f.name not in ("service_request_id", "attributes")
    }
    return StoredRequest(service_request_id=str(row.id), attributes=json.loads(row.attributes), **values)


def _url(location: Union[str, Path]) -> str:
    """A database URL as given, or a SQLite file path (its folders created)."""
    if isinstance(location, str) and "://" in location:
        return location
    path = Path(location).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class RequestStore:
    """Async access to the requests table; use `async with RequestStore(path_or_url) as store`."""

    def __init__(self, location: Union[str, Path]) -> None:
        self.location = location
        self._engine: Optional[Engine] = None

    async def __aenter__(self) -> "RequestStore":
        await self.open()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect, creating a SQLite file's folders, and migrate the schema."""
        if self._engine is None:
            self._engine = await asyncio.to_thread(self._connect)

    async def close(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await asyncio.to_thread(engine.dispose)

    def _connect(self) -> Engine:
        engine = create_engine(_url(self.location))
        ensure_head(engine, OPEN311)
        return engine

    async def _run(self, work: Callable[[Connection], T]) -> T:
        """Run `work(connection)` in one transaction, off the event loop."""
        engine = self._engine
        if engine is None:
            raise RuntimeError("RequestStore is not open")

        def in_transaction() -> T:
            with engine.begin() as connection:
                return work(connection)

        return await asyncio.to_thread(in_transaction)

    async def create(
        self, new: NewRequest, *, now: Optional[datetime] = None, idempotency_key: Optional[str] = None
    ) -> StoredRequest:
        """Store a new open request; `now` is for tests and imports of past reports.

        With an `idempotency_key` already used, nothing is stored and the request
        first filed under that key is returned.
        """
        stored, _ = await self.create_once(new, idempotency_key, now=now)
        return stored

    async def create_once(
        self, new: NewRequest, idempotency_key: Optional[str], *, now: Optional[datetime] = None
    ) -> Tuple[StoredRequest, bool]:
        """Like `create`, and says whether it stored a new request (False: the key was already used).

        The UNIQUE index decides, so two writers racing with one key (even in two
        processes) still leave a single row: the loser gets the winner's request.
        """
        requested = now or datetime.now(timezone.utc)
        expected = utc_w3(requested + new.expected_after) if new.expected_after is not None else None
        record: Dict[str, Any] = {
            "token": uuid.uuid4().hex,
            "service_code": new.service_code,
            "service_name": new.service_name,
            "agency_responsible": new.agency_responsible,
            "service_notice": new.service_notice,
            "status": "open",
            "status_notes": "received",
            "description": new.description,
            "requested_datetime": utc_w3(requested),
            "updated_datetime": utc_w3(requested),
            "expected_datetime": expected,
            "address": new.address,
            "address_id": new.address_id,
            "zipcode": new.zipcode,
            "lat": new.lat,
            "long": new.long,
            "media_url": new.media_url,
            "attributes": json.dumps(new.attributes, ensure_ascii=False),
            "email": new.email,
            "first_name": new.first_name,
            "last_name": new.last_name,
            "phone": new.phone,
            "device_id": new.device_id,
            "account_id": new.account_id,
            "idempotency_key": idempotency_key,
        }

        def first_filed(connection: Connection) -> Optional[StoredRequest]:
            row = connection.execute(sa.select(requests).where(requests.c.idempotency_key == idempotency_key)).first()
            return _row_to_request(row) if row else None

        def insert(connection: Connection) -> Tuple[StoredRequest, bool]:
            if idempotency_key is not None:
                if connection.dialect.name == "postgresql":
                    # A failed insert would use up an id of the sequence: writers of one key take turns.
                    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(idempotency_key))))
                earlier = first_filed(connection)
                if earlier is not None:
                    return earlier, False
            (number,) = connection.execute(requests.insert().values(**record)).inserted_primary_key
            return _row_to_request(connection.execute(sa.select(requests).where(requests.c.id == number)).one()), True

        try:
            return await self._run(insert)
        except sa.exc.IntegrityError:
            # A failed statement ends a PostgreSQL transaction: look the key up in a new one.
            earlier = await self._run(first_filed) if idempotency_key is not None else None
            if earlier is None:  # some other constraint failed
                raise
            return earlier, False

    async def get(self, request_id: str) -> Optional[StoredRequest]:
        """The request with this id, or None."""
        number = _int_id(request_id)
        if number is None:
            return None
        return await self._first(requests.c.id == number)

    async def get_by_token(self, token: str) -> Optional[StoredRequest]:
        """The request POST answered with this token, or None."""
        return await self._first(requests.c.token == token)

    async def _first(self, condition: Any) -> Optional[StoredRequest]:
        row = await self._run(lambda c: c.execute(sa.select(requests).where(condition)).first())
        return _row_to_request(row) if row else None

    async def search(self, query: RequestQuery) -> List[StoredRequest]:
        """Requests matching every filter of `query`, newest first, at most `query.limit`."""
        conditions: List[Any] = []
        if query.ids:
            numbers = [n for n in (_int_id(i) for i in query.ids) if n is not None]
            if not numbers:
                return []
            conditions.append(requests.c.id.in_(numbers))
        if query.service_codes:
            conditions.append(requests.c.service_code.in_(list(query.service_codes)))
        if query.statuses:
            conditions.append(requests.c.status.in_(list(query.statuses)))
        if query.start is not None:
            conditions.append(requests.c.requested_datetime >= utc_w3(query.start))
        if query.end is not None:
            conditions.append(requests.c.requested_datetime <= utc_w3(query.end))
        near = query.near
        if near is not None:
            conditions.extend(_bounding_box(near))
        statement = (
            sa.select(requests).where(*conditions).order_by(requests.c.requested_datetime.desc(), requests.c.id.desc())
        )
        limit = max(0, query.limit)
        if near is None:
            statement = statement.limit(limit)

        def matching(connection: Connection) -> List[StoredRequest]:
            found: List[StoredRequest] = []
            for row in connection.execute(statement):  # newest first, until `limit` are near enough
                if len(found) >= limit:
                    break
                if near is None or _is_near(row, near):
                    found.append(_row_to_request(row))
            return found

        return await self._run(matching)

    async def update_status(
        self,
        request_id: str,
        status: str,
        status_notes: Optional[str],
        agency_responsible: Optional[str] = None,
        *,
        now: Optional[datetime] = None,
    ) -> Optional[StoredRequest]:
        """Staff change: set status (open/closed) and notes, optionally the agency; None if unknown id."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        number = _int_id(request_id)
        if number is None:
            return None
        values: Dict[str, Any] = {
            "status": status,
            "status_notes": status_notes,
            "updated_datetime": utc_w3(now or datetime.now(timezone.utc)),
        }
        if agency_responsible is not None:
            values["agency_responsible"] = agency_responsible

        def update(connection: Connection) -> Optional[Any]:
            connection.execute(requests.update().where(requests.c.id == number).values(**values))
            return connection.execute(sa.select(requests).where(requests.c.id == number)).first()

        row = await self._run(update)
        return _row_to_request(row) if row else None
