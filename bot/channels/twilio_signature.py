"""Is this webhook call really from Twilio? (the X-Twilio-Signature header)

Twilio signs the URL it called (scheme, host, path and query string, exactly
as configured in its console) followed by every POST parameter, with the
account's auth token. Behind a reverse proxy the URL this server sees is not
the one Twilio called, so the URL is rebuilt from PUBLIC_URL, or from the
proxy's X-Forwarded-Proto / X-Forwarded-Host headers when PUBLIC_URL is unset.
The comparison itself is the twilio library's RequestValidator, which also
tries the URL with and without an explicit port (Twilio is inconsistent there)
and checks `bodySHA256` for JSON bodies.
"""

from __future__ import annotations

from typing import Any, Optional

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def _first(header_value: Optional[str]) -> Optional[str]:
    """The client-side value of a forwarded header that proxies may have chained ("a, b")."""
    if not header_value:
        return None
    value = header_value.split(",", 1)[0].strip()
    return value or None


def signed_url(
    public_url: Optional[str],
    scheme: str,
    host: str,
    path: str,
    query_string: str = "",
    forwarded_proto: Optional[str] = None,
    forwarded_host: Optional[str] = None,
) -> str:
    """The URL Twilio called and signed, as seen from the internet.

    `public_url` (PUBLIC_URL, e.g. "https://bot.city.gov") wins when set and the
    forwarded headers are then ignored: anyone can send those. The query string
    is kept exactly as received, since Twilio signs it as configured.
    """
    if public_url:
        base = public_url.rstrip("/")
    else:
        base = f"{_first(forwarded_proto) or scheme}://{_first(forwarded_host) or host}"
    return f"{base}{path}?{query_string}" if query_string else f"{base}{path}"


def is_valid_signature(auth_token: str, url: str, params: Any, signature: Optional[str]) -> bool:
    """Whether `signature` is Twilio's for `url` and `params`.

    `params` is the form (a mapping; repeated keys need a `getall(key)` method)
    or, for a JSON body signed with `bodySHA256` in the URL, the raw body text.
    """
    if not signature or not auth_token:
        return False
    return RequestValidator(auth_token).validate(url, params if params is not None else {}, signature)
