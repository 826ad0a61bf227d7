"""The GeoReport v2 wire format, both ways, as pure functions (no I/O).

Reading: real cities bend the spec (numbers where strings belong, `001`
written as a bare JSON number, capitalised statuses, empty tags, SOAP
namespaces, 0/0 for "no location"), so decoding first turns JSON or XML into
the same plain tree and one set of field readers builds the models from it.
Writing: the reference server renders JSON and XML from the same payloads.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Callable, Dict, List, Optional, Sequence, TypeVar, Union

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from bot.open311.models import (
    ErrorDetail,
    Format,
    Open311ParseError,
    RequestReceipt,
    Service,
    ServiceAttribute,
    ServiceDefinition,
    ServiceRequest,
    TokenLookup,
)

Body = Union[str, bytes]
T = TypeVar("T")

MEDIA_TYPES: Dict[str, str] = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}

# XML containers whose children form a list, and the tag each child gets.
LIST_ITEM_TAGS: Dict[str, str] = {
    "services": "service",
    "service_requests": "request",
    "requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}

_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_LEADING_ZERO_NUMBER = re.compile(r"(?<![\w.+\-])-?0\d+(?:\.\d+)?(?:[eE][+\-]?\d+)?(?![\w.])")
_W3_DATETIME = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(?:(Z)|([+\- ])(\d{2}):?(\d{2}))?\s*$",
    re.IGNORECASE,
)


# --- decoding: bytes -> plain tree ------------------------------------------------


def decode(body: Body, fmt: Format) -> Any:
    """JSON or XML text to plain lists/dicts/strings; raises Open311ParseError with the reason."""
    if fmt == "json":
        return _decode_json(body)
    if fmt == "xml":
        return _decode_xml(body)
    raise ValueError(f"unknown format {fmt!r}")


def sniff_format(body: Body, expected: Format) -> Format:
    """The format the body is really in: some endpoints answer errors in XML to a .json call."""
    head = body.lstrip()[:1]
    if head in ("<", b"<"):
        return "xml"
    if head in ("[", "{", b"[", b"{"):
        return "json"
    return expected


def _decode_json(body: Body) -> Any:
    text = body.decode("utf-8-sig", errors="replace") if isinstance(body, bytes) else body.lstrip("\ufeff")
    try:
        return json.loads(text)
    except json.JSONDecodeError as strict_error:
        # The spec's own examples write codes as bare numbers like 001 (invalid JSON).
        # Quoting exactly those tokens, outside strings, keeps "001" distinct from "1".
        repaired = _quote_leading_zero_numbers(text)
        if repaired != text:
            try:
                return json.loads(repaired)
            except json.JSONDecodeError:
                pass
        raise Open311ParseError(f"response is not valid JSON: {strict_error}") from strict_error


def _quote_leading_zero_numbers(text: str) -> str:
    """Wrap bare numbers with leading zeros (001, 006) in quotes, leaving string literals alone."""
    pieces: List[str] = []
    position = 0
    for string_literal in _JSON_STRING.finditer(text):
        pieces.append(_LEADING_ZERO_NUMBER.sub(r'"\g<0>"', text[position : string_literal.start()]))
        pieces.append(string_literal.group(0))
        position = string_literal.end()
    pieces.append(_LEADING_ZERO_NUMBER.sub(r'"\g<0>"', text[position:]))
    return "".join(pieces)


def _decode_xml(body: Body) -> Any:
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    if _DTD.search(raw):
        # Entity declarations are how XML bombs work; no Open311 response needs them.
        raise Open311ParseError("response XML declares a DTD or entities, which is refused")
    if isinstance(body, str):
        # A str is already decoded; drop a declaration that names another encoding.
        raw = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", raw)
    try:
        # defusedxml refuses DTDs, entities and external references the quick check above misses.
        root = safe_xml.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as error:
        raise Open311ParseError(f"response XML uses a forbidden construct: {type(error).__name__}") from error
    except ET.ParseError as error:
        raise Open311ParseError(f"response is not valid XML: {error}") from error
    return _element_to_tree(root)


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _element_to_tree(element: ET.Element) -> Any:
    """Leaf -> text (None when empty or xsi:nil); container -> list or dict by tag."""
    tag = _local_name(element.tag)
    children = list(element)
    if tag in LIST_ITEM_TAGS:
        return [_element_to_tree(child) for child in children]
    if not children:
        if element.get(_XSI_NIL, "").lower() == "true":
            return None
        return element.text
    child_tags = [_local_name(child.tag) for child in children]
    if len(children) > 1 and len(set(child_tags)) == 1:
        return [_element_to_tree(child) for child in children]
    return {name: _element_to_tree(child) for name, child in zip(child_tags, children, strict=True)}


# --- field readers: tolerant of every shape real cities send ---------------------


def _text(value: Any) -> Optional[str]:
    """Any scalar as a stripped string; None for missing/empty. JSON numbers become strings."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _float(value: Any) -> Optional[float]:
    """A finite float, or None when missing or unreadable (one bad field must not sink a list)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, (int, float)) else float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> Optional[int]:
    number = _float(value)
    return int(number) if number is not None else None


def _bool(value: Any) -> bool:
    """true/"true"/"True"/1 -> True; anything else False."""
    if isinstance(value, bool):
        return value
    return _text(value) in ("true", "True", "TRUE", "1", "yes")


def _records(tree: Any, what: str) -> List[Dict[str, Any]]:
    """The list of objects a list resource holds; a lone object counts as a list of one."""
    if tree is None:
        return []
    if isinstance(tree, dict):
        tree = [tree]
    if not isinstance(tree, list) or not all(isinstance(item, dict) for item in tree):
        raise Open311ParseError(f"expected a list of {what} objects, got {type(tree).__name__}")
    return tree


def _required(record: Dict[str, Any], name: str, what: str) -> str:
    value = _text(record.get(name))
    if value is None:
        raise Open311ParseError(f"{what} without {name}: {sorted(record)}")
    return value


def _parse_list(body: Body, fmt: Format, what: str, build: Callable[[Dict[str, Any]], T]) -> List[T]:
    return [build(record) for record in _records(decode(body, fmt), what)]


# --- models -----------------------------------------------------------------------


def _service(record: Dict[str, Any]) -> Service:
    keywords = _text(record.get("keywords"))
    return Service(
        service_code=_required(record, "service_code", "service"),
        service_name=_text(record.get("service_name")),
        description=_text(record.get("description")),
        metadata=_bool(record.get("metadata")),
        type=_text(record.get("type")),
        keywords=[k.strip() for k in keywords.split(",") if k.strip()] if keywords else [],
        group=_text(record.get("group")),
    )


def _attribute_values(raw: Any) -> List[tuple]:
    values = []
    for item in _records(raw, "attribute value"):
        key = _text(item.get("key"))
        if key is not None:
            values.append((key, _text(item.get("name")) or key))
    return values


def _attribute(record: Dict[str, Any]) -> ServiceAttribute:
    return ServiceAttribute(
        code=_required(record, "code", "attribute"),
        datatype=(_text(record.get("datatype")) or "string").lower(),
        required=_bool(record.get("required")),
        variable=_bool(record.get("variable")) if "variable" in record else True,
        datatype_description=_text(record.get("datatype_description")),
        order=_int(record.get("order")),
        description=_text(record.get("description")),
        values=_attribute_values(record.get("values")),
    )


def _service_request(record: Dict[str, Any]) -> ServiceRequest:
    status = _text(record.get("status"))
    return ServiceRequest(
        service_request_id=_required(record, "service_request_id", "service request"),
        status=status.lower() if status else None,
        status_notes=_text(record.get("status_notes")),
        service_name=_text(record.get("service_name")),
        service_code=_text(record.get("service_code")),
        description=_text(record.get("description")),
        agency_responsible=_text(record.get("agency_responsible")),
        service_notice=_text(record.get("service_notice")),
        requested_datetime=_text(record.get("requested_datetime")),
        updated_datetime=_text(record.get("updated_datetime")),
        expected_datetime=_text(record.get("expected_datetime")),
        address=_text(record.get("address")),
        address_id=_text(record.get("address_id")),
        zipcode=_text(record.get("zipcode")),
        lat=_float(record.get("lat")),
        long=_float(record.get("long")),
        media_url=_text(record.get("media_url")),
    )


def _receipt(record: Dict[str, Any]) -> RequestReceipt:
    receipt = RequestReceipt(
        service_request_id=_text(record.get("service_request_id")),
        token=_text(record.get("token")),
        service_notice=_text(record.get("service_notice")),
        account_id=_text(record.get("account_id")),
    )
    if receipt.service_request_id is None and receipt.token is None:
        raise Open311ParseError(f"POST answer has neither service_request_id nor token: {sorted(record)}")
    return receipt


def _token_lookup(record: Dict[str, Any]) -> TokenLookup:
    return TokenLookup(token=_text(record.get("token")), service_request_id=_text(record.get("service_request_id")))


def parse_services(body: Body, fmt: Format) -> List[Service]:
    """GET services.{fmt}."""
    return _parse_list(body, fmt, "service", _service)


def parse_service_definition(body: Body, fmt: Format) -> ServiceDefinition:
    """GET services/{code}.{fmt}; attributes sorted by `order` (unordered ones last, as sent)."""
    tree = decode(body, fmt)
    if isinstance(tree, list) and len(tree) == 1:
        tree = tree[0]
    if not isinstance(tree, dict):
        raise Open311ParseError(f"expected a service definition object, got {type(tree).__name__}")
    attributes = [_attribute(record) for record in _records(tree.get("attributes"), "attribute")]
    attributes.sort(key=lambda a: (a.order is None, a.order or 0))
    return ServiceDefinition(service_code=_required(tree, "service_code", "service definition"), attributes=attributes)


def parse_receipts(body: Body, fmt: Format) -> List[RequestReceipt]:
    """POST requests.{fmt}: usually a list of one."""
    return _parse_list(body, fmt, "request receipt", _receipt)


def parse_requests(body: Body, fmt: Format) -> List[ServiceRequest]:
    """GET requests.{fmt} and requests/{id}.{fmt}."""
    return _parse_list(body, fmt, "service request", _service_request)


def parse_token_lookups(body: Body, fmt: Format) -> List[TokenLookup]:
    """GET tokens/{token}.{fmt}."""
    return _parse_list(body, fmt, "token", _token_lookup)


def parse_errors(body: Body, fmt: Format, default_code: int = 0) -> List[ErrorDetail]:
    """A spec error list as (code, description); codes that are not numbers become `default_code`."""
    tree = decode(body, fmt)
    if isinstance(tree, dict) and isinstance(tree.get("errors"), list):
        tree = tree["errors"]
    errors = []
    for record in _records(tree, "error"):
        code = _int(record.get("code"))
        description = _text(record.get("description")) or _text(record.get("message")) or ""
        errors.append((code if code is not None else default_code, description))
    return errors


# --- datetimes --------------------------------------------------------------------


def parse_datetime(value: Optional[str], default_tz: tzinfo = timezone.utc) -> Optional[datetime]:
    """A w3/ISO datetime (or date) to an aware datetime; None if empty or unreadable.

    Lenient on purpose: San Francisco sends "2012-05-22 23:57:23.97" with no
    offset (then `default_tz` applies), and a '+' sent unencoded in a query
    string arrives as a space.
    """
    if not value:
        return None
    match = _W3_DATETIME.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if zulu:
        tz: tzinfo = timezone.utc
    elif sign:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        tz = timezone(-offset if sign == "-" else offset)
    else:
        tz = default_tz
    try:
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro, tz)
    except ValueError:
        return None


def format_datetime(moment: datetime) -> str:
    """A w3 datetime with offset, seconds precision; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec="seconds")


# --- encoding: payload -> text (used by the reference server) ---------------------


def encode(payload: Any, fmt: Format, root: str) -> str:
    """Render a payload of dicts/lists/scalars as the spec's JSON or XML under `root`."""
    if fmt == "json":
        return json.dumps(payload, ensure_ascii=False)
    if fmt == "xml":
        element = _tree_to_element(root, payload)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")
    raise ValueError(f"unknown format {fmt!r}")


def _tree_to_element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, list):
        item_tag = LIST_ITEM_TAGS[tag]  # KeyError = a payload this module does not know how to name
        element.extend(_tree_to_element(item_tag, item) for item in value)
    elif isinstance(value, dict):
        element.extend(_tree_to_element(name, item) for name, item in value.items())
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def errors_payload(errors: Sequence[ErrorDetail]) -> List[Dict[str, Any]]:
    """The spec's error list as a payload for `encode(..., root="errors")`."""
    return [{"code": code, "description": description} for code, description in errors]
