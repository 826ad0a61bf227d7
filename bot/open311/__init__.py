"""Open311 GeoReport v2: an async client for any city's endpoint, and a reference server.

Import the client side from here; the server (`bot.open311.server`) pulls in
Sanic and is only needed by `python -m bot.open311`.
"""

from bot.open311.client import Open311Client, client_from_env, reset_client_from_env
from bot.open311.models import (
    Open311Error,
    Open311ParseError,
    Open311Rejected,
    Open311Unavailable,
    RequestReceipt,
    Service,
    ServiceAttribute,
    ServiceDefinition,
    ServiceRequest,
    TokenLookup,
)

__all__ = [
    "Open311Client",
    "Open311Error",
    "Open311ParseError",
    "Open311Rejected",
    "Open311Unavailable",
    "RequestReceipt",
    "Service",
    "ServiceAttribute",
    "ServiceDefinition",
    "ServiceRequest",
    "TokenLookup",
    "client_from_env",
    "reset_client_from_env",
]
