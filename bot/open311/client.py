"""Async client for any city's Open311 GeoReport v2 endpoint.

The bot files and tracks reports through this one class, whether the city runs
our reference server or its own back office. Every failure is one of the
`Open311Error` subclasses, so callers decide by type: `Open311Unavailable`
may be retried later, `Open311Rejected` will fail again with the same input.
POST is never retried here: after `Open311Unavailable` from `create_request`
the report may or may not exist. Pass the same `idempotency_key` when filing it
again: servers that honour the `Idempotency-Key` header (our reference server
does) answer the original receipt instead of filing a second report; others
ignore the header.

Contact details sent with a report are never logged.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, TypeVar, Union, overload
from urllib.parse import quote, urlencode

import httpx

from bot.open311.models import (
    DEV_API_KEY,
    FORMATS,
    Format,
    Open311Error,
    Open311ParseError,
    Open311Rejected,
    Open311Unavailable,
    RequestReceipt,
    Service,
    ServiceDefinition,
    ServiceRequest,
)
from bot.open311.parse import (
    MEDIA_TYPES,
    Body,
    format_datetime,
    parse_errors,
    parse_receipts,
    parse_requests,
    parse_service_definition,
    parse_services,
    parse_token_lookups,
    sniff_format,
)
from bot.settings import settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_URL = "http://localhost:8311/open311/v2"
RETRYABLE_STATUSES = frozenset({408, 425, 429})
AttributeAnswers = Mapping[str, Union[str, Sequence[str]]]
DateArg = Union[datetime, str, None]
ListArg = Union[str, Sequence[str], None]


def request_form(
    service_code: str,
    *,
    api_key: Optional[str] = None,
    jurisdiction_id: Optional[str] = None,
    attributes: Optional[AttributeAnswers] = None,
    **fields: Union[str, float, None],
) -> List[Tuple[str, str]]:
    """The POST requests fields, in spec names; list answers become repeated `attribute[code][]`."""
    pairs: List[Tuple[str, str]] = []
    for name, value in (("api_key", api_key), ("jurisdiction_id", jurisdiction_id), ("service_code", service_code)):
        if value is not None:
            pairs.append((name, value))
    pairs.extend((name, str(value)) for name, value in fields.items() if value is not None)
    for code, answer in (attributes or {}).items():
        if isinstance(answer, str):
            pairs.append((f"attribute[{code}]", answer))
        else:
            pairs.extend((f"attribute[{code}][]", str(item)) for item in answer)
    return pairs


def _csv(value: ListArg) -> Optional[str]:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else [str(item) for item in value]
    return ",".join(items) or None


def _w3(value: DateArg) -> Optional[str]:
    return format_datetime(value) if isinstance(value, datetime) else value


class Open311Client:
    """One city's GeoReport v2 endpoint, over one shared `httpx.AsyncClient`.

    `base_url` is the endpoint root, e.g. https://city.gov/open311/v2; `format`
    picks .json or .xml resources (answers are parsed by what they really are).
    `transport` is for tests.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        jurisdiction_id: Optional[str] = None,
        timeout: float = 10.0,
        format: Format = "json",
        *,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        if format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.jurisdiction_id = jurisdiction_id
        self.format: Format = format
        self.timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            timeout=httpx.Timeout(timeout),
            headers={"Accept": MEDIA_TYPES[format].split(";")[0], "User-Agent": "citybot-open311/1"},
            follow_redirects=False,  # a redirected POST silently turns into a GET
            transport=transport,
        )

    async def __aenter__(self) -> "Open311Client":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # --- the spec's methods -------------------------------------------------------------

    async def list_services(self) -> List[Service]:
        """GET services: what residents can report."""
        return await self._get("services", parse_services)

    async def get_service_definition(self, service_code: str) -> ServiceDefinition:
        """GET services/{code}: the questions a service asks."""
        return await self._get(f"services/{quote(service_code, safe='')}", parse_service_definition)

    async def create_request(
        self,
        service_code: str,
        *,
        attributes: Optional[AttributeAnswers] = None,
        lat: Optional[float] = None,
        long: Optional[float] = None,
        address_string: Optional[str] = None,
        address_id: Optional[str] = None,
        description: Optional[str] = None,
        email: Optional[str] = None,
        first_name: Optional[str] = None,
        last_name: Optional[str] = None,
        phone: Optional[str] = None,
        media_url: Optional[str] = None,
        device_id: Optional[str] = None,
        account_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> RequestReceipt:
        """POST requests: file a report; the receipt has the id or, on some back offices, a token.

        `idempotency_key` is sent as the `Idempotency-Key` header: reuse it when
        retrying the same report so the city files it once.
        """
        pairs = request_form(
            service_code,
            api_key=self.api_key,
            jurisdiction_id=self.jurisdiction_id,
            attributes=attributes,
            lat=lat,
            long=long,
            address_string=address_string,
            address_id=address_id,
            description=description,
            email=email,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            media_url=media_url,
            device_id=device_id,
            account_id=account_id,
        )
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else None
        body, fmt = await self._call("POST", self._resource("requests"), form=pairs, headers=headers)
        receipts = self._parse(parse_receipts, body, fmt, "POST requests")
        if not receipts:
            raise Open311ParseError("POST requests answered an empty list")
        return receipts[0]

    async def get_request(self, request_id: str) -> Optional[ServiceRequest]:
        """GET requests/{id}; None when the city does not know the id."""
        answer = await self._call("GET", self._resource(f"requests/{quote(request_id, safe='')}"), missing_ok=True)
        if answer is None:
            return None
        found = self._parse(parse_requests, *answer, f"GET requests/{request_id}")
        return next((r for r in found if r.service_request_id == request_id), found[0] if found else None)

    async def list_requests(
        self,
        *,
        service_request_ids: ListArg = None,
        service_code: ListArg = None,
        start_date: DateArg = None,
        end_date: DateArg = None,
        status: ListArg = None,
        lat: Optional[float] = None,
        long: Optional[float] = None,
        radius: Optional[float] = None,
    ) -> List[ServiceRequest]:
        """GET requests with the spec's filters (ids override the rest), plus lat/long/radius in meters.

        The geographic filter is a Riverton reference-server extension; other
        cities may ignore it, so check distances when it matters.
        """
        params = {
            "service_request_id": _csv(service_request_ids),
            "service_code": _csv(service_code),
            "start_date": _w3(start_date),
            "end_date": _w3(end_date),
            "status": _csv(status),
            "lat": lat,
            "long": long,
            "radius": radius,
        }
        return await self._get("requests", parse_requests, params)

    async def get_request_id_from_token(self, token: str) -> Optional[str]:
        """GET tokens/{token}; None while the city has not assigned an id (or does not know the token)."""
        answer = await self._call("GET", self._resource(f"tokens/{quote(token, safe='')}"), missing_ok=True)
        if answer is None:
            return None
        lookups = self._parse(parse_token_lookups, *answer, "GET tokens")
        return next((lookup.service_request_id for lookup in lookups if lookup.service_request_id), None)

    # --- plumbing -----------------------------------------------------------------------

    def _resource(self, path: str) -> str:
        return f"{path}.{self.format}"

    async def _get(self, path: str, parse: Callable[[Body, Format], T], params: Optional[Dict[str, Any]] = None) -> T:
        resource = self._resource(path)
        body, fmt = await self._call("GET", resource, params=params)
        return self._parse(parse, body, fmt, f"GET {resource}")

    @staticmethod
    def _parse(parse: Callable[[Body, Format], T], body: bytes, fmt: Format, what: str) -> T:
        try:
            return parse(body, fmt)
        except Open311ParseError as error:
            raise Open311ParseError(f"{what}: {error}") from error

    @overload
    async def _call(
        self,
        method: str,
        resource: str,
        *,
        params: Optional[Dict[str, Any]] = None,
        form: Optional[List[Tuple[str, str]]] = None,
        headers: Optional[Dict[str, str]] = None,
        missing_ok: Literal[False] = False,
    ) -> Tuple[bytes, Format]: ...

    @overload
    async def _call(
        self,
        method: str,
        resource: str,
        *,
        params: Optional[Dict[str, Any]] = None,
        form: Optional[List[Tuple[str, str]]] = None,
        headers: Optional[Dict[str, str]] = None,
        missing_ok: bool,
    ) -> Optional[Tuple[bytes, Format]]: ...

    async def _call(
        self,
        method: str,
        resource: str,
        *,
        params: Optional[Dict[str, Any]] = None,
        form: Optional[List[Tuple[str, str]]] = None,
        headers: Optional[Dict[str, str]] = None,
        missing_ok: bool = False,
    ) -> Optional[Tuple[bytes, Format]]:
        """Send one call; the body and its real format, None for a 404 when `missing_ok`."""
        query = {name: value for name, value in (params or {}).items() if value is not None}
        if self.jurisdiction_id and form is None:
            query["jurisdiction_id"] = self.jurisdiction_id
        what = f"{method} {resource}"
        sent_headers = dict(headers or {})
        if form is not None:
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            response = await self._http.request(
                method,
                resource,
                params=query or None,
                content=urlencode(form).encode() if form is not None else None,
                headers=sent_headers or None,
            )
        except httpx.TimeoutException as error:
            raise Open311Unavailable(f"{what}: no answer within {self.timeout:g}s") from error
        except httpx.DecodingError as error:
            raise Open311ParseError(f"{what}: undecodable response: {error}") from error
        except httpx.TransportError as error:
            raise Open311Unavailable(f"{what}: {type(error).__name__}: {error}") from error
        except httpx.HTTPError as error:
            raise Open311Error(f"{what}: {type(error).__name__}: {error}") from error
        status = response.status_code
        logger.debug("%s -> %s", what, status)
        if 200 <= status < 300:
            return response.content, sniff_format(response.content, self.format)
        if status == 404 and missing_ok:
            return None
        raise self._failure(what, response)

    def _failure(self, what: str, response: httpx.Response) -> Open311Error:
        """The exception for a non-2xx answer, carrying the spec errors the city sent."""
        status = response.status_code
        try:
            errors = parse_errors(response.content, sniff_format(response.content, self.format), status)
        except Open311ParseError:
            snippet = response.text.strip()[:200]
            errors = [(status, snippet or response.reason_phrase)]
        detail = "; ".join(description for _, description in errors if description) or response.reason_phrase
        message = f"{what} -> HTTP {status}: {detail}"
        if status >= 500 or status in RETRYABLE_STATUSES:
            return Open311Unavailable(message, status=status, errors=errors)
        if status >= 400:
            return Open311Rejected(message, status=status, errors=errors)
        return Open311Rejected(f"{what} -> unexpected HTTP {status} (check OPEN311_URL)", status=status, errors=errors)


# --- configured from the environment ---------------------------------------------------

_env_client: Optional[Open311Client] = None


def client_from_env() -> Open311Client:
    """The process-wide client for OPEN311_URL (default: the local reference server).

    OPEN311_API_KEY defaults to the reference server's development key only
    when OPEN311_URL is unset; OPEN311_JURISDICTION_ID is optional;
    OPEN311_TIMEOUT is in seconds (default 10).
    """
    global _env_client
    if _env_client is None:
        config = settings()
        url = config.open311_url
        raw_timeout = config.open311_timeout
        try:
            timeout = float(raw_timeout)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout < float("inf"):
            raise ValueError(f"OPEN311_TIMEOUT must be a positive number of seconds, got {raw_timeout!r}")
        _env_client = Open311Client(
            url or DEFAULT_URL,
            api_key=config.open311_api_key or (DEV_API_KEY if url is None else None),
            jurisdiction_id=config.open311_jurisdiction_id,
            timeout=timeout,
        )
    return _env_client


def reset_client_from_env() -> Optional[Open311Client]:
    """Forget the cached client (tests change the environment); returns it so the caller can aclose() it."""
    global _env_client
    previous, _env_client = _env_client, None
    return previous
