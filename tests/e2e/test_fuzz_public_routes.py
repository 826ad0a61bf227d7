"""Bounded fuzzing of every public route with mutations of real payloads (../shared/eval/).

Each mutation starts from a payload written outside this project (Telegram's
and aiogram's updates, Twilio's inbound webhook parameters, the GeoReport v2
specification's requests) and breaks it the way the internet does: keys
dropped, values of the wrong type, huge numbers, lone surrogates, deep nesting,
truncated bodies. Requests are correctly authenticated (Telegram's secret,
Twilio's signature) so that they reach the parsing behind the door. Whatever
comes in, no route may answer 5xx and no process may die. The random seed is
fixed: a failure names the payload, and a rerun repeats it.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from typing import Any, Callable, Dict, Iterator, List, Tuple
from urllib.parse import parse_qsl, quote, urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.channels.twilio_signature import SIGNATURE_HEADER
from tests.support.photos import GPS, camera_exif, photo_bytes
from tests.support.stack import RASA_API_TOKEN, SHARED, TELEGRAM_SECRET, TWILIO_AUTH_TOKEN

pytestmark = pytest.mark.e2e

SEED = 1311
EVAL = SHARED / "eval"

# Values the wrong shape, size or kind for almost any field.
ODD_VALUES: List[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    2**70,
    -(2**70),
    1e308,
    0.5,
    "",
    " ",
    "x" * 5000,
    "\ud800",
    "\udfff tail",
    "💥" * 300,
    "9999-12-31T23:59:59Z",
    "0000-00-00",
    "NaN",
    "-1e999",
    "../../etc/passwd",
    "<script>x</script>",
    "%00",
    "\x00",
    [],
    {},
    [[[[]]]],
    {"a": {"b": {"c": None}}},
    [1, "two", None],
    "999999999999999999999999",
]
# Strings only, for form fields (Twilio, Open311) and URL parts.
ODD_TEXT = [value for value in ODD_VALUES if isinstance(value, str)] + ["1" * 40, "-0", "1e5", "\t\n", "%ff%fe"]


def payloads(path: str) -> List[Dict[str, Any]]:
    """The real payloads (JSON objects) of one file of ../shared/eval/, its `_source` notes left out."""
    data = json.loads((EVAL / path).read_text(encoding="utf-8"))
    entries = data.items() if isinstance(data, dict) else enumerate(data)
    return [item for key, item in entries if not str(key).startswith("_") and isinstance(item, dict)]


def paths_of(value: Any, prefix: Tuple = ()) -> Iterator[Tuple]:
    """Every key path inside a JSON value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield prefix + (key,)
            yield from paths_of(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield prefix + (index,)
            yield from paths_of(inner, prefix + (index,))


def mutated(value: Any, rng: random.Random) -> Any:
    """A copy of a JSON value with one to three things broken."""
    value = json.loads(json.dumps(value))
    for _ in range(rng.randint(1, 3)):
        paths = list(paths_of(value))
        if not paths:
            return copy.deepcopy(rng.choice(ODD_VALUES))
        path = rng.choice(paths)
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = rng.random()
        if action < 0.25 and isinstance(parent, dict):
            del parent[last]
        elif action < 0.35:
            parent[last] = {"n": [{"n": [[1]]}]}
        else:
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
    return value


def broken_bytes(body: bytes, rng: random.Random) -> bytes:
    """A body truncated, nested thousands deep, or with a few bytes changed."""
    if rng.random() < 0.3:
        depth = rng.choice([500, 5000, 50000])
        return b'{"n": [' * depth + body + b"]}" * depth
    if rng.random() < 0.5 and len(body) > 2:
        return body[: rng.randrange(1, len(body))]
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def json_body(value: Any, rng: random.Random) -> bytes:
    raw = json.dumps(mutated(value, rng)).encode()  # ensure_ascii: a lone surrogate travels as \\ud800
    return broken_bytes(raw, rng) if rng.random() < 0.25 else raw


def raw(value: str) -> str:
    """A value for a URL or a form as it arrives on the wire: lone surrogates as the invalid UTF-8 they encode to."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def readable(value: str) -> str:
    """A value Twilio's signature can be computed over (lone surrogates replaced)."""
    return value.encode("utf-8", "replace").decode("utf-8")


class Outcome:
    """Every request sent and the ones answered 5xx or not at all."""

    def __init__(self) -> None:
        self.sent = 0
        self.failures: List[str] = []

    def check(self, label: str, send: Callable[..., httpx.Response], *args: Any, **kwargs: Any) -> None:
        """Send one request, `send(*args, **kwargs)`, and note it if it fails."""
        self.sent += 1
        try:
            answer = send(*args, **kwargs)
        except httpx.HTTPError as error:
            self.failures.append(f"{label}: no answer ({type(error).__name__})")
            return
        if answer.status_code >= 500:
            self.failures.append(f"{label}: HTTP {answer.status_code} {answer.text[:120]!r}")

    def begin(self) -> int:
        """Mark where one route's requests start."""
        return len(self.failures)

    def assert_clean(self, mark: int) -> None:
        """No request since `mark` answered 5xx or went unanswered."""
        found = self.failures[mark:]
        assert not found, f"{len(found)} failures:\n" + "\n".join(found)


@pytest.fixture(scope="module")
def outcome(stack) -> Iterator[Outcome]:
    result = Outcome()
    yield result
    dead = [process.name for process in stack.processes if not process.is_running()]
    assert not dead, f"processes died under fuzzing: {dead}"


def telegram_updates() -> List[Dict[str, Any]]:
    return payloads("telegram/official_webhooks_guide_updates.json") + payloads(
        "telegram/updates_from_aiogram_v2_dataset.json"
    )


def test_telegram_webhook(stack, outcome):
    mark = outcome.begin()
    rng = random.Random(SEED)
    url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/telegram/webhook"
    updates = telegram_updates()
    assert len(updates) >= 20
    for number in range(120):
        body = json_body(rng.choice(updates), rng)
        outcome.check(
            f"telegram #{number} {body[:80]!r}",
            httpx.post,
            url,
            content=body,
            timeout=60,
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"},
        )
    for file_id in rng.sample(ODD_TEXT, 8):
        outcome.check(
            f"telegram media {file_id[:40]!r}",
            httpx.get,
            f"http://127.0.0.1:{stack.rasa_port}/webhooks/telegram/media/{raw(file_id)}",
            timeout=30,
        )
    outcome.assert_clean(mark)


def twilio_forms() -> List[Dict[str, str]]:
    return [
        {key: str(value) for key, value in form.items()}
        for form in payloads("twilio/inbound_sms_webhook_examples.json")
    ]


def test_twilio_webhook(stack, outcome):
    mark = outcome.begin()
    rng = random.Random(SEED + 1)
    url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/twilio/webhook"
    forms = twilio_forms()
    assert forms
    validator = RequestValidator(TWILIO_AUTH_TOKEN)
    for number in range(80):
        form = dict(rng.choice(forms))
        form["From"] = f"+1555{rng.randrange(10**7):07d}"
        for _ in range(rng.randint(1, 3)):
            key = rng.choice(sorted(form) + ["NumMedia", "MediaUrl0", "Latitude", "Longitude", "Body"])
            if rng.random() < 0.2:
                form.pop(key, None)
            else:
                form[key] = readable(rng.choice(ODD_TEXT))
        signature = validator.compute_signature(url, form)
        body = urlencode(form).encode()
        if rng.random() < 0.1:
            body = broken_bytes(body, rng)
        outcome.check(
            f"twilio #{number} {form!r:.100}",
            httpx.post,
            url,
            content=body,
            timeout=60,
            headers={SIGNATURE_HEADER: signature, "Content-Type": "application/x-www-form-urlencoded"},
        )
    outcome.assert_clean(mark)


def header_value(value: str) -> bytes:
    """A value an HTTP client can send as a header (no control characters, no outer blanks)."""
    return ("".join(ch for ch in readable(value) if ch.isprintable()).strip() or "-").encode("utf-8")


def stream_status(url: str, headers: Dict[str, bytes]) -> httpx.Response:
    """Open an event stream only for its status: the stream itself is left at once."""
    with httpx.stream("GET", url, headers=headers, timeout=30) as answer:
        return answer


def test_web_chat_and_pages(stack, outcome):
    mark = outcome.begin()
    rng = random.Random(SEED + 2)
    base = f"http://127.0.0.1:{stack.rasa_port}"
    turn = {
        "session": str(uuid.uuid4()),
        "message": "there is a pothole on Maple Avenue",
        "title": "Report",
        "metadata": {"location": {"latitude": 41.5, "longitude": -90.5}},
    }
    photo_turn = {"session": str(uuid.uuid4()), "message": "", "metadata": {"photo": "abc", "language": "es"}}
    bodies = (
        [("webhook", turn)] * 60
        + [("webhook", photo_turn)] * 20
        + [("start", {"session": str(uuid.uuid4()), "metadata": {"language": "es"}})] * 20
        + [("photo", None)] * 20  # a photo with a camera's EXIF, broken
    )
    photo = photo_bytes("JPEG", exif=camera_exif(GPS))
    for number, (path, template) in enumerate(bodies):
        if template is None:
            body, kind, query = broken_bytes(photo, rng), "image/jpeg", f"?session={uuid.uuid4()}"
        else:
            body, kind, query = json_body(template, rng), "application/json", ""
        outcome.check(
            f"webchat {path} #{number} {body[:80]!r}",
            httpx.post,
            f"{base}/webhooks/webchat/{path}{query}",
            content=body,
            timeout=60,
            headers={"Content-Type": kind},
        )
    for value in ODD_TEXT:
        query = f"session={uuid.uuid4()}&after={raw(value)}"
        outcome.check(
            f"history after={value[:30]!r}", httpx.get, f"{base}/webhooks/webchat/history?{query}", timeout=30
        )
        outcome.check(
            f"history session={value[:30]!r}",
            httpx.get,
            f"{base}/webhooks/webchat/history?session={raw(value)}",
            timeout=30,
        )

        outcome.check(
            f"events Last-Event-ID={value[:30]!r}",
            stream_status,
            f"{base}/webhooks/webchat/events?session={uuid.uuid4()}",
            {"Last-Event-ID": header_value(value)},
        )
        outcome.check(f"faq {value[:30]!r}", httpx.get, f"{base}/faq/{raw(value)}", timeout=30)
        outcome.check(f"static {value[:30]!r}", httpx.get, f"{base}/chat/static/{raw(value)}", timeout=30)
        outcome.check(
            f"photo session={value[:30]!r}", httpx.post, f"{base}/webhooks/webchat/photo?session={raw(value)}"
        )
        outcome.check(
            f"media {value[:30]!r}", httpx.get, f"{base}/webhooks/webchat/media/{raw(value)}?sig={raw(value)}"
        )
    outcome.assert_clean(mark)


def test_rest_channel(stack, outcome):
    mark = outcome.begin()
    rng = random.Random(SEED + 3)
    url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook"
    message = {"sender": f"fuzz-{uuid.uuid4().hex[:8]}", "message": "when is city hall open?", "metadata": {"a": 1}}
    for number in range(40):
        body = json_body(message, rng)
        outcome.check(
            f"rest #{number} {body[:80]!r}",
            httpx.post,
            url,
            content=body,
            params={"token": RASA_API_TOKEN},
            timeout=60,
            headers={"Content-Type": "application/json"},
        )
    outcome.assert_clean(mark)


def spec_request_form() -> Dict[str, str]:
    """The service request the GeoReport v2 specification posts (its example 04)."""
    text = (EVAL / "open311/spec_v2/04_post_service_request.txt").read_text(encoding="utf-8")
    body = next(line for line in text.splitlines() if "service_code=" in line)
    return dict(parse_qsl(body.strip()))


def test_open311_reference_server(stack, outcome):
    mark = outcome.begin()
    rng = random.Random(SEED + 4)
    base = stack.effective_open311_url
    form = {**spec_request_form(), "api_key": stack.config.shared_env()["OPEN311_API_KEY"], "service_code": "POTHOLE"}
    for number in range(40):
        broken = dict(form)
        for _ in range(rng.randint(1, 3)):
            key = rng.choice(sorted(broken))
            broken[key] = rng.choice(ODD_TEXT)
        if broken.get("api_key") != form["api_key"] and rng.random() < 0.7:
            broken["api_key"] = form["api_key"]  # mostly past the key check, into the parsing
        body = "&".join(f"{raw(key)}={raw(value)}" for key, value in broken.items())
        outcome.check(
            f"open311 POST #{number} {broken!r:.100}",
            httpx.post,
            f"{base}/requests.json",
            content=body,
            timeout=30,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    for value in ODD_TEXT:
        for name in ("start_date", "end_date", "status", "service_request_id", "service_code", "jurisdiction_id"):
            outcome.check(
                f"open311 GET {name}={value[:30]!r}",
                httpx.get,
                f"{base}/requests.json?{name}={raw(value)}",
                timeout=30,
            )
        for route in ("services/{}.json", "requests/{}.json", "tokens/{}.json"):
            outcome.check(
                f"open311 {route} {value[:30]!r}", httpx.get, f"{base}/{route.format(raw(value))}", timeout=30
            )
    outcome.assert_clean(mark)


def test_staff_console_sign_in(stack, outcome):
    mark = outcome.begin()
    rng = random.Random(SEED + 5)
    base = f"http://127.0.0.1:{stack.config.shared_env()['CONSOLE_PORT']}"
    for value in rng.sample(ODD_TEXT, 12):
        outcome.check(
            f"console login {value[:30]!r}",
            httpx.post,
            f"{base}/console/login",
            content=f"username={raw(value)}&password={raw(value)}&login_token={raw(value)}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
        outcome.check(f"console next={value[:30]!r}", httpx.get, f"{base}/console/login?next={raw(value)}", timeout=30)
    outcome.assert_clean(mark)


def test_the_stack_still_answers_after_the_fuzzing(stack, outcome):
    assert outcome.sent >= 300
    status = httpx.get(f"http://127.0.0.1:{stack.rasa_port}/status", params={"token": RASA_API_TOKEN}, timeout=30)
    assert status.status_code == 200
    answer = httpx.post(
        f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook",
        params={"token": RASA_API_TOKEN},
        json={"sender": f"after-{uuid.uuid4().hex[:8]}", "message": "when is city hall open?"},
        timeout=60,
    )
    assert answer.status_code == 200 and answer.json()
