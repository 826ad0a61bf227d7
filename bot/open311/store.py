"""SQLite storage for the reference server's service requests.

A city without an Open311 back office still needs reports to survive a
restart, so they live in one SQLite file. sqlite3 calls run in a worker
thread (`asyncio.to_thread`) behind one lock, so the server's event loop never
blocks on disk and the single connection is never used by two threads at once.
Times are stored as UTC w3 strings of fixed width, so string order is time order.

A report may carry an idempotency key (unique across the table): filing it again
under the same key returns the first report instead of storing a second one.
Databases made before that column existed get it added when opened.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar, Union

from bot.open311.geo import haversine_m

T = TypeVar("T")
AttributeValue = Union[str, List[str]]

FIRST_ID = 1001
STATUSES = ("open", "closed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL UNIQUE,
    service_code TEXT NOT NULL,
    service_name TEXT NOT NULL,
    agency_responsible TEXT,
    service_notice TEXT,
    status TEXT NOT NULL,
    status_notes TEXT,
    description TEXT,
    requested_datetime TEXT NOT NULL,
    updated_datetime TEXT NOT NULL,
    expected_datetime TEXT,
    address TEXT,
    address_id TEXT,
    zipcode TEXT,
    lat REAL,
    long REAL,
    media_url TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    email TEXT,
    first_name TEXT,
    last_name TEXT,
    phone TEXT,
    device_id TEXT,
    account_id TEXT,
    idempotency_key TEXT
);
CREATE INDEX IF NOT EXISTS requests_requested ON requests (requested_datetime);
CREATE INDEX IF NOT EXISTS requests_service ON requests (service_code);
"""
# Run after _migrate: a database from before idempotency keys lacks the column until then.
# NULLs never collide in a UNIQUE index, so reports filed without a key are unaffected.
_IDEMPOTENCY_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS requests_idempotency_key ON requests (idempotency_key)"
)


def utc_w3(moment: datetime) -> str:
    """The one datetime format stored and served: UTC, seconds, explicit +00:00 offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _sql_distance(lat1: Any, long1: Any, lat2: Any, long2: Any) -> Optional[float]:
    if None in (lat1, long1, lat2, long2):
        return None
    return haversine_m(float(lat1), float(long1), float(lat2), float(long2))


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


def _migrate(connection: sqlite3.Connection) -> None:
    """Bring a database made by an older version up to the current schema."""
    columns = {row["name"] for row in connection.execute("PRAGMA table_info(requests)")}
    if "idempotency_key" not in columns:
        try:
            connection.execute("ALTER TABLE requests ADD COLUMN idempotency_key TEXT")
        except sqlite3.OperationalError as error:  # another process added it first
            if "duplicate column" not in str(error).lower():
                raise
    connection.execute(_IDEMPOTENCY_INDEX)


def _row_to_request(row: sqlite3.Row) -> StoredRequest:
    values = {f.name: row[f.name] for f in fields(StoredRequest) if f.name not in ("service_request_id", "attributes")}
    return StoredRequest(service_request_id=str(row["id"]), attributes=json.loads(row["attributes"]), **values)


class RequestStore:
    """Async access to the requests table; use `async with RequestStore(path) as store`."""

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = Path(path)
        self._connection: Optional[sqlite3.Connection] = None
        self._lock = threading.Lock()

    async def __aenter__(self) -> "RequestStore":
        await self.open()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def open(self) -> None:
        """Create the parent directory, the file and the schema if missing."""
        if self._connection is None:
            self._connection = await asyncio.to_thread(self._connect)

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await asyncio.to_thread(self._with_lock, lambda: connection.close())

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.create_function("distance_m", 4, _sql_distance, deterministic=True)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
        _migrate(connection)
        connection.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'requests', ? "
            "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'requests')",
            (FIRST_ID - 1,),
        )
        return connection

    def _with_lock(self, work: Callable[[], T]) -> T:
        with self._lock:
            return work()

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self._connection
        if connection is None:
            raise RuntimeError("RequestStore is not open")
        return await asyncio.to_thread(self._with_lock, lambda: work(connection))

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
        columns = ", ".join(record)
        placeholders = ", ".join(f":{name}" for name in record)

        def insert(connection: sqlite3.Connection) -> Tuple[StoredRequest, bool]:
            try:
                cursor = connection.execute(f"INSERT INTO requests ({columns}) VALUES ({placeholders})", record)
            except sqlite3.IntegrityError:
                if idempotency_key is None:
                    raise
                row = connection.execute(
                    "SELECT * FROM requests WHERE idempotency_key = ?", (idempotency_key,)
                ).fetchone()
                if row is None:  # some other constraint failed
                    raise
                return _row_to_request(row), False
            row = connection.execute("SELECT * FROM requests WHERE id = ?", (cursor.lastrowid,)).fetchone()
            return _row_to_request(row), True

        return await self._run(insert)

    async def get(self, request_id: str) -> Optional[StoredRequest]:
        """The request with this id, or None."""
        number = _int_id(request_id)
        if number is None:
            return None
        row = await self._run(lambda c: c.execute("SELECT * FROM requests WHERE id = ?", (number,)).fetchone())
        return _row_to_request(row) if row else None

    async def get_by_token(self, token: str) -> Optional[StoredRequest]:
        """The request POST answered with this token, or None."""
        row = await self._run(lambda c: c.execute("SELECT * FROM requests WHERE token = ?", (token,)).fetchone())
        return _row_to_request(row) if row else None

    async def search(self, query: RequestQuery) -> List[StoredRequest]:
        """Requests matching every filter of `query`, newest first, at most `query.limit`."""
        clauses: List[str] = []
        params: List[Any] = []

        def any_of(column: str, values: Sequence[Any]) -> None:
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)

        if query.ids:
            numbers = [n for n in (_int_id(i) for i in query.ids) if n is not None]
            if not numbers:
                return []
            any_of("id", numbers)
        if query.service_codes:
            any_of("service_code", list(query.service_codes))
        if query.statuses:
            any_of("status", list(query.statuses))
        if query.start is not None:
            clauses.append("requested_datetime >= ?")
            params.append(utc_w3(query.start))
        if query.end is not None:
            clauses.append("requested_datetime <= ?")
            params.append(utc_w3(query.end))
        if query.near is not None:
            clauses.append("distance_m(lat, long, ?, ?) <= ?")
            params.extend([query.near.lat, query.near.long, query.near.radius_m])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM requests {where} ORDER BY requested_datetime DESC, id DESC LIMIT ?"
        params.append(max(0, query.limit))
        rows = await self._run(lambda c: c.execute(sql, params).fetchall())
        return [_row_to_request(row) for row in rows]

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
        updated = utc_w3(now or datetime.now(timezone.utc))

        def update(connection: sqlite3.Connection) -> Optional[sqlite3.Row]:
            connection.execute(
                "UPDATE requests SET status = ?, status_notes = ?, updated_datetime = ?, "
                "agency_responsible = COALESCE(?, agency_responsible) WHERE id = ?",
                (status, status_notes, updated, agency_responsible, number),
            )
            return connection.execute("SELECT * FROM requests WHERE id = ?", (number,)).fetchone()

        row = await self._run(update)
        return _row_to_request(row) if row else None
