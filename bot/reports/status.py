"""Find a request number in a message and describe a request's status."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from bot.open311.client import Open311Client
from bot.open311.models import ServiceRequest
from bot.open311.parse import parse_datetime
from bot.reports import outbox

# City ids are digits (some with a dash, like 14-01100669); local references
# look like R-7KQ2M.
_REQUEST_ID = re.compile(r"(?<![\w-])(R-[A-Z0-9]{5,8}|\d{3,}(?:-\d{2,})?)(?![\w-])", re.IGNORECASE)
_MAX_ID_LENGTH = 40


def format_day(moment: datetime) -> str:
    """A date the way people say it: "Monday, November 30"."""
    return f"{moment:%A}, {moment:%B} {moment.day}"


def extract_request_id(text: str) -> Optional[str]:
    """The request reference in a message, if it holds exactly one."""
    found = {m.group(1).upper() for m in _REQUEST_ID.finditer(text or "")}
    return found.pop() if len(found) == 1 else None


def is_plausible_request_id(value: str) -> bool:
    """Whether a value can be a request reference at all (before asking the back office)."""
    return bool(value) and len(value) <= _MAX_ID_LENGTH and _REQUEST_ID.fullmatch(value) is not None


def describe_request(request: ServiceRequest) -> str:
    """A status message: what, where, open or closed, the notes, and dates."""
    what = request.service_name or "service request"
    parts = [f"Request {request.service_request_id} ({what}"]
    if request.address:
        parts[0] += f" at {request.address}"
    parts[0] += ")"
    status = (request.status or "unknown").lower()
    state = f"is {status}"
    if request.status_notes:
        state += f": {request.status_notes}"
    parts.append(state + ".")
    updated = parse_datetime(request.updated_datetime) if request.updated_datetime else None
    if updated is not None:
        parts.append(f"Last updated {format_day(updated)}.")
    expected = parse_datetime(request.expected_datetime) if request.expected_datetime else None
    if expected is not None and status != "closed":
        parts.append(f"Expected to be handled by {format_day(expected)}.")
    if request.agency_responsible:
        parts.append(f"Handled by {request.agency_responsible}.")
    return " ".join(parts)


def not_found_message(request_id: str) -> str:
    return (
        f"I couldn't find a request with the number {request_id}. Please check the number "
        "in the message you got when you filed it (for example 1042)."
    )


MALFORMED_MESSAGE = (
    "That doesn't look like a request number. Request numbers are digits, like 1042, "
    "and you'll find yours in the message you got when you filed the report."
)


def is_local_reference(value: str) -> bool:
    """Whether a reference is one the assistant issued (R-7KQ2M) rather than the city's id."""
    return value.upper().startswith("R-")


async def describe_reference(reference: str, client: Open311Client) -> str:
    """Status by the assistant's own reference: the city's status once filed, else where delivery stands."""
    item = await outbox.get(reference)
    if item is None:
        return not_found_message(reference)
    if item.state == outbox.FILED and item.service_request_id:
        request = await client.get_request(item.service_request_id)
        if request is not None:
            return f"{describe_request(request)} (Your reference: {item.reference}.)"
    if item.state == outbox.REJECTED:
        return (
            f"Your report {item.reference} was not accepted by the city's system. Please call 311 so staff can file it."
        )
    return (
        f"Your report {item.reference} is saved and waiting for the city's system to accept it. "
        "I'll message you the city's request number as soon as it arrives."
    )
