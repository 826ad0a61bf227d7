"""What a GeoReport v2 endpoint talks about, and how talking to one can fail.

Plain frozen dataclasses so the rest of the bot never touches raw JSON/XML:
ids are always strings (cities use numbers, hex and "14-01100669" alike), fields
a city left out are None, datetimes stay the strings the city sent (see
`parse.parse_datetime` to compare them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import List, Literal, Optional, Tuple

Format = Literal["json", "xml"]
FORMATS: Tuple[Format, ...] = ("json", "xml")

ErrorDetail = Tuple[int, str]
"""One entry of a spec error list: (code, description)."""

DEV_API_KEY = "riverton-dev-key"
"""The reference server's key when OPEN311_API_KEYS is unset; only for local development."""


@dataclass(frozen=True)
class Service:
    """One entry of GET services: a kind of problem the city accepts reports for."""

    service_code: str
    service_name: Optional[str] = None
    description: Optional[str] = None
    metadata: bool = False
    type: Optional[str] = None
    keywords: List[str] = field(default_factory=list)
    group: Optional[str] = None


@dataclass(frozen=True)
class ServiceAttribute:
    """One question of a service definition; `values` are (key, name) choices for list types."""

    code: str
    datatype: str = "string"
    required: bool = False
    variable: bool = True
    datatype_description: Optional[str] = None
    order: Optional[int] = None
    description: Optional[str] = None
    values: List[Tuple[str, str]] = field(default_factory=list)

    @property
    def keys(self) -> List[str]:
        """The keys a list attribute accepts, in the city's order."""
        return [key for key, _ in self.values]


@dataclass(frozen=True)
class ServiceDefinition:
    """GET services/{code}: the extra questions a service asks, sorted by `order`."""

    service_code: str
    attributes: List[ServiceAttribute] = field(default_factory=list)

    def attribute(self, code: str) -> Optional[ServiceAttribute]:
        """The attribute with this exact code, or None."""
        return next((a for a in self.attributes if a.code == code), None)


@dataclass(frozen=True)
class RequestReceipt:
    """What POST requests answers: an id, or a token to trade for one later."""

    service_request_id: Optional[str] = None
    token: Optional[str] = None
    service_notice: Optional[str] = None
    account_id: Optional[str] = None


@dataclass(frozen=True)
class ServiceRequest:
    """One report as the city shows it publicly (no contact details)."""

    service_request_id: str
    status: Optional[str] = None
    status_notes: Optional[str] = None
    service_name: Optional[str] = None
    service_code: Optional[str] = None
    description: Optional[str] = None
    agency_responsible: Optional[str] = None
    service_notice: Optional[str] = None
    requested_datetime: Optional[str] = None
    updated_datetime: Optional[str] = None
    expected_datetime: Optional[str] = None
    address: Optional[str] = None
    address_id: Optional[str] = None
    zipcode: Optional[str] = None
    lat: Optional[float] = None
    long: Optional[float] = None
    media_url: Optional[str] = None

    @property
    def is_open(self) -> bool:
        """True unless the city says closed (status is lower-cased by the parser)."""
        return self.status != "closed"

    @property
    def has_location(self) -> bool:
        """Coordinates present and not the 0,0 placeholder some cities send for 'unknown'."""
        return self.lat is not None and self.long is not None and (self.lat, self.long) != (0.0, 0.0)

    @property
    def requested_at(self) -> Optional[datetime]:
        """`requested_datetime` as an aware datetime (UTC assumed if the city gave no offset)."""
        from bot.open311.parse import parse_datetime

        return parse_datetime(self.requested_datetime)


@dataclass(frozen=True)
class TokenLookup:
    """GET tokens/{token}: the id is None while the city has not assigned one yet."""

    token: Optional[str]
    service_request_id: Optional[str]


class Open311Error(Exception):
    """Base of every failure talking to an Open311 endpoint.

    `status` is the HTTP status when there was a response; `errors` the spec's
    (code, description) list the endpoint sent, possibly empty.
    """

    def __init__(
        self, message: str, *, status: Optional[int] = None, errors: Optional[List[ErrorDetail]] = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors: List[ErrorDetail] = list(errors or [])


class Open311Unavailable(Open311Error):
    """Network error, timeout, 5xx or 429: the endpoint may work if asked again later."""


class Open311Rejected(Open311Error):
    """4xx with the spec's error list: asking again with the same input will fail again."""


class Open311ParseError(Open311Error):
    """The body is not valid GeoReport JSON/XML or does not have the expected shape."""
