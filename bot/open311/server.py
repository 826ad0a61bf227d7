"""Reference Open311 GeoReport v2 server, for a city that has no Open311 back office.

Seeded from the city file (`bot.catalog`), stores reports in a SQLite file or
PostgreSQL (`bot.open311.store`), speaks JSON and XML through the one codec in
`bot.open311.parse`. Every failure answers in the spec's error format; bad input
is a 4xx, never a 500.

Riverton extension (not in the spec): `POST /open311/v2/requests/{id}/status.{fmt}`
with `api_key`, `status` (open/closed), optional `status_notes` and
`agency_responsible`, so staff can move a report along; it answers like
GET requests/{id}.

Riverton extension (not in the spec): POST requests.{fmt} takes an optional
`Idempotency-Key` header (1-128 printable ASCII characters, else 400), so a
report retried after a crash or a timeout is filed once. A key already used
with the same api_key stores nothing and answers the original receipt (the same
service_request_id, or the same token in token mode), whatever the new body
says. Keys are scoped per api_key; they are stored as
`<first 16 hex of sha256(api_key)>:<key>` under a UNIQUE index, which also
settles concurrent POSTs with one key.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import parse_qsl

from sanic import Sanic
from sanic.config import Config
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.headers import parse_content_header
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.catalog import CatalogAttribute, CatalogService, City, load_city
from bot.failures import failure_summary
from bot.open311.models import DEV_API_KEY, FORMATS, ErrorDetail, Format
from bot.open311.parse import MEDIA_TYPES, encode, errors_payload, parse_datetime
from bot.open311.store import STATUSES, Near, NewRequest, RequestQuery, RequestStore, StoredRequest, utc_w3
from bot.settings import settings

logger = logging.getLogger(__name__)

API_BASE = "/open311/v2"
SPECIFICATION_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 100
MAX_RESULTS = 1000
MAX_WINDOW = timedelta(days=90)
DATE_YEARS = (1970, 2999)  # dates a 311 request can have; others are refused, not computed with
MAX_RADIUS_M = 50_000.0
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
DATATYPE_DESCRIPTIONS = {
    "number": "A number, e.g. 3",
    "datetime": "A date and time, e.g. 2024-05-01T08:00:00-05:00",
    "singlevaluelist": "One of the listed values",
    "multivaluelist": "One or more of the listed values",
}
# Longest value accepted per field (characters); anything not listed gets TEXT_LIMIT.
FIELD_LIMITS = {"description": 4000, "media_url": 2000, "address_string": 500, "status_notes": 1000}
TEXT_LIMIT = 200
OPTIONAL_TEXT_FIELDS = (
    "address_string",
    "address_id",
    "description",
    "media_url",
    "email",
    "first_name",
    "last_name",
    "phone",
    "device_id",
    "account_id",
)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,128}$")


class ApiError(SanicException):
    """A client mistake, answered with the spec's error list (one entry per problem)."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(descriptions[0], status_code=status, quiet=True)
        self.errors: List[ErrorDetail] = [(status, text) for text in descriptions]


# --- responses ----------------------------------------------------------------------


def reply(fmt: Format, payload: Any, root: str, status: int = 200) -> HTTPResponse:
    """The one way handlers answer: the same payload rendered as JSON or XML."""
    return HTTPResponse(encode(payload, fmt, root), status=status, content_type=MEDIA_TYPES[fmt])


def _request_path(request: Optional[Request]) -> str:
    try:
        return request.path if request is not None else ""
    except (UnicodeDecodeError, AttributeError):
        return ""


def _format_of_path(path: str) -> Format:
    """Errors follow the format the caller asked for; JSON when the path does not say."""
    return "xml" if path.lower().endswith(".xml") else "json"


class Open311ErrorHandler(ErrorHandler):
    """Every error in the spec's format; unexpected ones logged (path only) and answered as 500."""

    def default(self, request: Request, exception: BaseException) -> HTTPResponse:
        path = _request_path(request)
        if isinstance(exception, ApiError):
            status, errors = exception.status_code, exception.errors
        elif isinstance(exception, UnicodeDecodeError):
            status, errors = 400, [(400, "the request is not valid UTF-8")]
        elif isinstance(exception, SanicException) and 400 <= getattr(exception, "status_code", 500) < 500:
            status = exception.status_code
            errors = [(status, str(exception) or "bad request")]
        else:
            method = getattr(request, "method", "?")
            # Where it failed, not the exception text: that may quote a request's description.
            logger.error("unexpected error on %s %s: %s", method, path, failure_summary(exception))
            status, errors = 500, [(500, "internal server error")]
        return reply(_format_of_path(path), errors_payload(errors), "errors", status)

    @staticmethod
    def log(request: Request, exception: BaseException) -> None:
        """Sanic's own logging prints the full URL, query string (contact data) included: never."""


# --- reading input --------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """Form or query fields: every value of every name, as sent."""

    values: Dict[str, List[str]]

    def get(self, name: str) -> Optional[str]:
        """The first value, stripped; None when missing or blank."""
        found = self.values.get(name)
        text = found[0].strip() if found else ""
        return text or None

    def csv(self, name: str) -> List[str]:
        """A comma-separated field as a list of distinct non-empty items, in order."""
        items = [item.strip() for item in (self.get(name) or "").split(",")]
        return list(dict.fromkeys(item for item in items if item))

    def attributes(self) -> Dict[str, List[str]]:
        """`attribute[code]` and `attribute[code][]` fields as code -> non-blank values."""
        found: Dict[str, List[str]] = {}
        for name, values in self.values.items():
            match = _ATTRIBUTE_FIELD.match(name)
            if match:
                found.setdefault(match.group(1), []).extend(v.strip() for v in values if v.strip())
        return found


def parse_fields(raw: str) -> Params:
    """A query string or urlencoded body; malformed or oversized -> 400."""
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except ValueError as error:  # includes UnicodeDecodeError and too many fields
        raise ApiError(400, f"malformed form or query string: {error}") from None
    values: Dict[str, List[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return Params(values)


def _form_fields(request: Request) -> Params:
    content_type, _ = parse_content_header(request.headers.get("content-type", ""))
    body = request.body or b""
    if content_type == "multipart/form-data":
        return Params({name: list(values) for name, values in request.form.items()})
    if not body.strip():
        return Params({})
    if content_type not in ("application/x-www-form-urlencoded", ""):
        raise ApiError(400, "send the fields as application/x-www-form-urlencoded (or multipart/form-data)")
    try:
        return parse_fields(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "the form body is not valid UTF-8") from None


def _query_fields(request: Request) -> Params:
    try:
        return parse_fields(request.query_string)
    except UnicodeDecodeError:
        raise ApiError(400, "the query string is not valid UTF-8") from None


def read_params(request: Request, *, form: bool = False, api_key_for: Optional[str] = None) -> Params:
    """Fields of a call, after the checks every route shares: api_key (if needed), jurisdiction."""
    params = _form_fields(request) if form else _query_fields(request)
    ctx = request.app.ctx
    if api_key_for is not None:
        given = params.get("api_key") or ""
        if not any(hmac.compare_digest(given.encode(), key.encode()) for key in ctx.api_keys):
            raise ApiError(403, f"Invalid api_key received -- can't proceed with {api_key_for}.")
    jurisdiction = params.get("jurisdiction_id")
    if jurisdiction is not None and jurisdiction != ctx.city.jurisdiction_id:
        raise ApiError(404, f"jurisdiction_id not found; this endpoint serves {ctx.city.jurisdiction_id}")
    return params


def idempotency_key(request: Request, api_key: str) -> Optional[str]:
    """The stored form of the Idempotency-Key header (scoped to `api_key`); None when not sent."""
    given = request.headers.getall(IDEMPOTENCY_HEADER.lower(), [])
    if not given:
        return None
    if len(given) > 1:
        raise ApiError(400, f"send one {IDEMPOTENCY_HEADER} header, not {len(given)}")
    key = given[0]
    if not _IDEMPOTENCY_KEY.match(key):
        raise ApiError(400, f"{IDEMPOTENCY_HEADER} must be 1 to 128 printable ASCII characters")
    scope = hashlib.sha256(api_key.encode()).hexdigest()[:16]
    return f"{scope}:{key}"


def split_resource(resource: str) -> Tuple[str, Format]:
    """'POTHOLE.json' -> ('POTHOLE', 'json'); anything without .json/.xml is not a resource here."""
    stem, _, extension = resource.rpartition(".")
    if not stem or extension.lower() not in FORMATS:
        raise ApiError(404, "not found: resources end in .json or .xml")
    return stem, extension.lower()  # type: ignore[return-value]


def _text_field(params: Params, name: str, errors: List[str]) -> Optional[str]:
    value = params.get(name)
    if value is None:
        return None
    limit = FIELD_LIMITS.get(name, TEXT_LIMIT)
    if len(value) > limit:
        errors.append(f"{name} is longer than {limit} characters")
    elif _CONTROL_CHARS.search(value):
        errors.append(f"{name} contains control characters")
    return value


def _number(text: str) -> Optional[float]:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _coordinate(params: Params, name: str, bound: float, errors: List[str]) -> Optional[float]:
    text = params.get(name)
    if text is None:
        return None
    number = _number(text) if len(text) <= 32 else None
    if number is None or not -bound <= number <= bound:
        errors.append(f"{name} must be a number between -{bound:g} and {bound:g}")
        return None
    return number


# --- validation (pure) ------------------------------------------------------------------


def _attribute_value(attribute: CatalogAttribute, values: List[str], errors: List[str]) -> Any:
    """The stored value of one answered attribute; problems go to `errors`."""
    name = f"attribute[{attribute.code}]"
    if attribute.datatype in LIST_DATATYPES:
        canonical = {v.casefold(): v for v in attribute.values}
        chosen = [canonical.get(v.casefold()) for v in values]
        if None in chosen:
            errors.append(f"{name} must be one of: {', '.join(attribute.values)}")
            return None
        if attribute.datatype == "multivaluelist":
            return list(dict.fromkeys(chosen))
        if len(chosen) > 1:
            errors.append(f"{name} takes one value")
        return chosen[0]
    if len(values) > 1:
        errors.append(f"{name} takes one value")
    value = values[0]
    if attribute.datatype == "number" and _number(value) is None:
        errors.append(f"{name} must be a number")
    elif attribute.datatype == "datetime" and parse_datetime(value) is None:
        errors.append(f"{name} must be a w3 datetime, e.g. 2024-05-01T08:00:00Z")
    elif len(value) > FIELD_LIMITS["description"] or _CONTROL_CHARS.search(value):
        errors.append(f"{name} is too long or contains control characters")
    return value


def validate_attributes(params: Params, service: CatalogService, errors: List[str]) -> Dict[str, Any]:
    """Check attribute[...] fields against the service definition."""
    given = params.attributes()
    known = {attribute.code for attribute in service.attributes}
    for code in sorted(set(given) - known):
        errors.append(f"attribute[{code}] is not a question of service {service.code}")
    answers: Dict[str, Any] = {}
    for attribute in service.attributes:
        values = given.get(attribute.code, [])
        if not values:
            if attribute.required:
                errors.append(f"attribute[{attribute.code}] is required: {attribute.description}")
            continue
        value = _attribute_value(attribute, values, errors)
        if value is not None:
            answers[attribute.code] = value
    return answers


def service_notice(service: CatalogService) -> str:
    """What the resident is told on receipt: who handles it and the target time."""
    if service.target_days <= 0:
        return f"{service.agency or 'The city'} has received your {service.name.lower()} report."
    days = "1 day" if service.target_days == 1 else f"{service.target_days} days"
    return f"{service.agency or 'The city'} aims to handle {service.name.lower()} reports within {days}."


def validate_new_request(params: Params, service: CatalogService) -> NewRequest:
    """Everything POST requests checks beyond api_key and service_code; all problems at once."""
    errors: List[str] = []
    lat = _coordinate(params, "lat", 90, errors)
    long = _coordinate(params, "long", 180, errors)
    if (params.get("lat") is None) != (params.get("long") is None):
        errors.append("lat and long must be sent together")
    text = {name: _text_field(params, name, errors) for name in OPTIONAL_TEXT_FIELDS}
    has_coordinates = params.get("lat") is not None and params.get("long") is not None
    if not has_coordinates and not text["address_string"] and not text["address_id"]:
        errors.append("a location is required: lat and long, address_string or address_id")
    if text["email"] and not _EMAIL.match(text["email"]):
        errors.append("email is not an email address")
    if text["media_url"] and not text["media_url"].lower().startswith(("http://", "https://")):
        errors.append("media_url must be an http(s) URL")
    attributes = validate_attributes(params, service, errors)
    if errors:
        raise ApiError(400, *errors)
    return NewRequest(
        service_code=service.code,
        service_name=service.name,
        agency_responsible=service.agency or None,
        service_notice=service_notice(service),
        expected_after=timedelta(days=service.target_days) if service.target_days > 0 else None,
        description=text["description"],
        address=text["address_string"],
        address_id=text["address_id"],
        lat=lat,
        long=long,
        media_url=text["media_url"],
        attributes=attributes,
        email=text["email"],
        first_name=text["first_name"],
        last_name=text["last_name"],
        phone=text["phone"],
        device_id=text["device_id"],
        account_id=text["account_id"],
    )


def _date_param(params: Params, name: str) -> Optional[datetime]:
    text = params.get(name)
    if text is None:
        return None
    moment = parse_datetime(text) if len(text) <= 40 else None
    if moment is None:
        raise ApiError(400, f"{name} must be a w3 datetime, e.g. 2024-05-01T00:00:00Z")
    try:
        year = moment.astimezone(timezone.utc).year
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        year = 0
    if not DATE_YEARS[0] <= year <= DATE_YEARS[1]:
        # Bounded so the 90-day window arithmetic can never overflow (9999-12-31 + 90 days).
        raise ApiError(400, f"{name} must be between the years {DATE_YEARS[0]} and {DATE_YEARS[1]}")
    return moment


def build_query(params: Params, now: datetime) -> RequestQuery:
    """GET requests filters -> a store query, with the spec's defaults and limits."""
    ids = params.csv("service_request_id")
    if ids:  # the spec: service_request_id overrides every other filter
        if len(ids) > MAX_RESULTS:
            raise ApiError(400, f"at most {MAX_RESULTS} service_request_id values")
        return RequestQuery(ids=ids, limit=MAX_RESULTS)
    statuses = [status.lower() for status in params.csv("status")]
    if any(status not in STATUSES for status in statuses):
        raise ApiError(400, "status must be open, closed or both, comma-separated")
    start, end = _date_param(params, "start_date"), _date_param(params, "end_date")
    if start is None:
        start = (now if end is None else end) - MAX_WINDOW
    elif end is None:
        end = start + MAX_WINDOW
    if end is not None and end < start:
        raise ApiError(400, "end_date is before start_date")
    if end is not None and end - start > MAX_WINDOW:
        raise ApiError(400, "start_date to end_date may not span more than 90 days")
    return RequestQuery(
        service_codes=params.csv("service_code"),
        statuses=statuses,
        start=start,
        end=end,
        near=_near(params),
        limit=MAX_RESULTS,
    )


def _near(params: Params) -> Optional[Near]:
    """The Riverton geographic filter: lat, long and radius (meters) together, or none of them."""
    names = ("lat", "long", "radius")
    if all(params.get(name) is None for name in names):
        return None
    errors: List[str] = []
    if any(params.get(name) is None for name in names):
        errors.append("the geographic filter needs lat, long and radius (meters) together")
    lat = _coordinate(params, "lat", 90, errors)
    long = _coordinate(params, "long", 180, errors)
    radius_text = params.get("radius")
    radius = _number(radius_text) if radius_text and len(radius_text) <= 32 else None
    if radius_text is not None and (radius is None or not 0 < radius <= MAX_RADIUS_M):
        errors.append(f"radius must be meters, more than 0 and at most {MAX_RADIUS_M:g}")
    if errors:
        raise ApiError(400, *errors)
    return Near(lat, long, radius)  # type: ignore[arg-type]


# --- payloads -------------------------------------------------------------------------


def service_payload(service: CatalogService) -> Dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.description,
        "metadata": bool(service.attributes),
        "type": "realtime",
        "keywords": ", ".join(service.keywords),
        "group": service.group,
    }


def definition_payload(service: CatalogService) -> Dict[str, Any]:
    attributes = []
    for order, attribute in enumerate(service.attributes, start=1):
        entry: Dict[str, Any] = {
            "variable": True,
            "code": attribute.code,
            "datatype": attribute.datatype,
            "required": attribute.required,
            "datatype_description": DATATYPE_DESCRIPTIONS.get(attribute.datatype),
            "order": order,
            "description": attribute.description,
        }
        if attribute.datatype in LIST_DATATYPES:
            entry["values"] = [{"key": value, "name": value} for value in attribute.values]
        attributes.append(entry)
    return {"service_code": service.code, "attributes": attributes}


def discovery_payload(city: City, endpoint_url: str, changeset: str) -> Dict[str, Any]:
    contact = city.info.get("phone_311") or city.info.get("website") or city.name
    return {
        "changeset": changeset,
        "contact": f"{city.name} 311: {contact}",
        "key_service": f"Ask {city.name} 311 for an api_key",
        "endpoints": [
            {
                "specification": SPECIFICATION_URL,
                "url": endpoint_url,
                "changeset": changeset,
                "type": "production",
                "formats": [MEDIA_TYPES["xml"].split(";")[0], MEDIA_TYPES["json"].split(";")[0]],
            }
        ],
    }


def _requests_reply(fmt: Format, requests: Sequence[StoredRequest]) -> HTTPResponse:
    return reply(fmt, [stored.public() for stored in requests], "service_requests")


# --- handlers ---------------------------------------------------------------------------


async def discovery(request: Request, fmt: Format) -> HTTPResponse:
    read_params(request)
    ctx = request.app.ctx
    endpoint_url = f"{request.scheme}://{request.host}{API_BASE}"
    return reply(fmt, discovery_payload(ctx.city, endpoint_url, ctx.changeset), "discovery")


async def list_services(request: Request, fmt: Format) -> HTTPResponse:
    read_params(request)
    return reply(fmt, [service_payload(s) for s in request.app.ctx.city.services], "services")


async def service_definition(request: Request, resource: str) -> HTTPResponse:
    code, fmt = split_resource(resource)
    read_params(request)
    service = request.app.ctx.city.service(code)
    if service is None:
        raise ApiError(404, f"service_code {code[:64]} not found")
    return reply(fmt, definition_payload(service), "service_definition")


async def create_request(request: Request, fmt: Format) -> HTTPResponse:
    params = read_params(request, form=True, api_key_for="create_request")
    ctx = request.app.ctx
    key = idempotency_key(request, params.get("api_key") or "")
    code = params.get("service_code")
    if code is None:
        raise ApiError(400, "service_code is required")
    service = ctx.city.service(code)
    if service is None:
        raise ApiError(400, f"service_code {code[:64]} is not a service of {ctx.city.jurisdiction_id}")
    stored, created = await ctx.store.create_once(validate_new_request(params, service), key)
    if created:
        logger.info("created request %s for service %s", stored.service_request_id, stored.service_code)
    else:
        logger.info("request %s was already filed under this %s", stored.service_request_id, IDEMPOTENCY_HEADER)
    handle = {"token": stored.token} if ctx.token_mode else {"service_request_id": stored.service_request_id}
    receipt = {**handle, "service_notice": stored.service_notice, "account_id": stored.account_id}
    return reply(fmt, [receipt], "service_requests")


async def list_requests(request: Request, fmt: Format) -> HTTPResponse:
    query = build_query(read_params(request), datetime.now(timezone.utc))
    return _requests_reply(fmt, await request.app.ctx.store.search(query))


async def requests_collection(request: Request, fmt: Format) -> HTTPResponse:
    """GET lists reports, POST files one; a single route, so other methods get a 405 (not a 404)."""
    if request.method == "POST":
        return await create_request(request, fmt)
    return await list_requests(request, fmt)


async def get_request(request: Request, resource: str) -> HTTPResponse:
    request_id, fmt = split_resource(resource)
    read_params(request)
    stored = await request.app.ctx.store.get(request_id)
    if stored is None:
        raise ApiError(404, f"service_request_id {request_id[:64]} not found")
    return _requests_reply(fmt, [stored])


async def token_lookup(request: Request, resource: str) -> HTTPResponse:
    token, fmt = split_resource(resource)
    read_params(request)
    stored = await request.app.ctx.store.get_by_token(token)
    if stored is None:
        raise ApiError(404, "token not found")
    return reply(fmt, [{"service_request_id": stored.service_request_id, "token": token}], "service_requests")


async def update_status(request: Request, request_id: str, fmt: Format) -> HTTPResponse:
    params = read_params(request, form=True, api_key_for="update_status")
    errors: List[str] = []
    status = (params.get("status") or "").lower()
    if status not in STATUSES:
        errors.append("status must be open or closed")
    notes = _text_field(params, "status_notes", errors)
    agency = _text_field(params, "agency_responsible", errors)
    if errors:
        raise ApiError(400, *errors)
    stored = await request.app.ctx.store.update_status(request_id, status, notes, agency)
    if stored is None:
        raise ApiError(404, f"service_request_id {request_id[:64]} not found")
    logger.info("request %s is now %s", stored.service_request_id, stored.status)
    return _requests_reply(fmt, [stored])


# --- app ----------------------------------------------------------------------------------


def api_keys_from_env() -> List[str]:
    """OPEN311_API_KEYS, comma-separated; the development key when unset."""
    raw = settings().open311_api_keys
    if raw is None:
        return [DEV_API_KEY]
    return [key.strip() for key in raw.split(",") if key.strip()]


def create_app(
    database: str,
    city: Optional[City] = None,
    api_keys: Optional[List[str]] = None,
    *,
    token_mode: bool = False,
) -> Sanic:
    """The server for `city` (default: the configured city file) storing into `database` (a path or URL).

    `token_mode` makes POST answer with a token instead of the id, like back
    offices that assign ids later; GET tokens/{token} then gives the id.
    """
    config = Config()
    config.update(
        {
            "REGISTER": False,  # several apps (tests, tools) may live in one process
            "ACCESS_LOG": False,  # query strings may hold contact data
            "MOTD": False,
            "REQUEST_MAX_SIZE": MAX_BODY_BYTES,
            "REQUEST_TIMEOUT": 30,
        }
    )
    app = Sanic("riverton_open311", config=config, error_handler=Open311ErrorHandler(), configure_logging=False)
    app.ctx.city = city or load_city()
    app.ctx.api_keys = list(api_keys_from_env() if api_keys is None else api_keys)
    app.ctx.token_mode = token_mode
    app.ctx.changeset = utc_w3(datetime.now(timezone.utc))
    app.ctx.store = RequestStore(database)

    async def open_store(app: Sanic, _loop: Any) -> None:
        await app.ctx.store.open()

    async def close_store(app: Sanic, _loop: Any) -> None:
        await app.ctx.store.close()

    app.register_listener(open_store, "before_server_start")
    app.register_listener(close_store, "after_server_stop")

    def resource(name: str) -> str:
        return f"<fmt:{name}\\.(json|xml)>"

    app.add_route(discovery, f"{API_BASE}/{resource('discovery')}", methods=["GET"])
    app.add_route(list_services, f"{API_BASE}/{resource('services')}", methods=["GET"])
    app.add_route(service_definition, f"{API_BASE}/services/<resource:str>", methods=["GET"])
    app.add_route(requests_collection, f"{API_BASE}/{resource('requests')}", methods=["GET", "POST"])
    app.add_route(get_request, f"{API_BASE}/requests/<resource:str>", methods=["GET"])
    app.add_route(update_status, f"{API_BASE}/requests/<request_id:str>/{resource('status')}", methods=["POST"])
    app.add_route(token_lookup, f"{API_BASE}/tokens/<resource:str>", methods=["GET"])
    return app


def main(argv: Optional[Sequence[str]] = None) -> None:
    """`python -m bot.open311 --port 8311 --db var/open311.db`."""
    parser = argparse.ArgumentParser(prog="python -m bot.open311", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8311)
    parser.add_argument("--db", default="var/open311.db", help="SQLite file (created if missing) or database URL")
    parser.add_argument("--city", default=None, help="city YAML file (default: CITY_FILE or Riverton)")
    parser.add_argument("--token-mode", action="store_true", help="POST answers a token, not the id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(args.db, city=load_city(args.city) if args.city else None, token_mode=args.token_mode)
    if not app.ctx.api_keys:
        logger.warning("OPEN311_API_KEYS is empty: every POST will be refused")
    logger.info("Open311 server for %s on http://%s:%s%s", app.ctx.city.jurisdiction_id, args.host, args.port, API_BASE)
    app.run(host=args.host, port=args.port, access_log=False, motd=False, workers=1)
