"""The web chat against the real running assistant: its HTTP API, then the page in chromium.

The HTTP tests check what the page relies on (bad input answered 4xx, the stored
transcript, messages pushed over Server-Sent Events). The browser tests use the
page as a resident would: with the mouse, with the keyboard only, on a phone-sized
screen, and check it with axe-core.
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import httpx
import pytest
from playwright.sync_api import Page, expect

from bot.channels.identity import sender_id_for
from bot.channels.outbound import deliver, register_sender
from bot.channels.webchat import MAX_MESSAGE_CHARS, WebChatSender, sender_from_env
from bot.db.engine import reset_database
from tests.support.browser import PHONE, BrowserSession, describe, run_async, screenshot, serious_violations
from tests.support.photos import GPS, RIVERTON, camera_exif, has_no_metadata, opened, photo_bytes
from tests.support.stack import RASA_API_TOKEN

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT = 60_000  # ms: a reply runs NLU, dialogue and the action server
WEBHOOK = "/webhooks/webchat/webhook"


@pytest.fixture(scope="module")
def base(stack) -> str:
    return f"http://127.0.0.1:{stack.rasa_port}"


@pytest.fixture
def shared_db(stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process writes to the assistant's database (as the worker or a staff console would)."""
    env = stack.shared_env()
    for name in ("CITYBOT_VAR_DIR", "DATABASE_URL", "CITYBOT_SECRET_KEY"):
        if name in env:
            monkeypatch.setenv(name, env[name])
    reset_database()
    register_sender(sender_from_env())
    yield
    reset_database()


def new_session() -> str:
    return str(uuid.uuid4())


def say(base: str, session: str, message: str, **extra: Any) -> httpx.Response:
    return httpx.post(f"{base}{WEBHOOK}", json={"session": session, "message": message, **extra}, timeout=60)


def history(base: str, session: str) -> List[Dict[str, Any]]:
    response = httpx.get(f"{base}/webhooks/webchat/history", params={"session": session}, timeout=10)
    response.raise_for_status()
    return response.json()


def read_events(lines: Iterator[str], count: int) -> List[Dict[str, Any]]:
    """The next `count` messages of an event stream (its id lines checked against the data)."""
    events: List[Dict[str, Any]] = []
    event_id = None
    if count == 0:
        return events
    for line in lines:
        if line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("data: "):
            message = json.loads(line[6:])
            assert message["id"] == event_id
            events.append(message)
            if len(events) == count:
                return events
    raise AssertionError(f"the stream ended after {events}")


# --- HTTP ---------------------------------------------------------------------------


def test_the_page_its_assets_and_the_embed_script_are_served(base):
    page_response = httpx.get(f"{base}/chat", timeout=10)
    assert page_response.status_code == 200
    assert page_response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page_response.headers["content-security-policy"]
    assert '<html lang="en">' in page_response.text and "<main" in page_response.text
    for name, kind in (("static/chat.js", "javascript"), ("static/chat.css", "text/css"), ("embed.js", "javascript")):
        asset = httpx.get(f"{base}/chat/{name}", timeout=10)
        assert asset.status_code == 200 and kind in asset.headers["content-type"], name
    assert '"/chat"' in httpx.get(f"{base}/chat/embed.js", timeout=10).text
    assert httpx.get(f"{base}/chat/static/chat.html", timeout=10).status_code == 404
    assert httpx.get(f"{base}/chat/static/..%2F..%2Fchannels%2Fwebchat.py", timeout=10).status_code == 404


def test_the_page_the_embed_script_and_the_faq_page_come_in_the_language_asked_for(base):
    spanish = httpx.get(f"{base}/chat", params={"lang": "es"}, headers={"Accept-Language": "en-US"}, timeout=10)
    assert '<html lang="es">' in spanish.text and "Nueva conversación" in spanish.text
    assert 'data-language-hint="es"' in spanish.text
    assert spanish.headers["content-language"] == "es" and "Accept-Language" in spanish.headers["vary"]
    by_browser = httpx.get(f"{base}/chat", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.8"}, timeout=10)
    assert '<html lang="es">' in by_browser.text
    asked = httpx.get(f"{base}/chat", params={"lang": "en"}, headers={"Accept-Language": "es-MX"}, timeout=10)
    assert '<html lang="en">' in asked.text and "New conversation" in asked.text
    fallback = httpx.get(f"{base}/chat", headers={"Accept-Language": "fr-FR"}, timeout=10)
    assert '<html lang="en">' in fallback.text and 'data-language-hint=""' in fallback.text

    embed = httpx.get(f"{base}/chat/embed.js", params={"lang": "es"}, timeout=10)
    assert embed.headers["content-type"].startswith("application/javascript")
    assert '"label": "Chatear con el 311"' in embed.text and '"asked": "es"' in embed.text

    faq = httpx.get(f"{base}/faq/cooling_warming_centers", params={"lang": "es"}, timeout=30)
    assert faq.status_code == 200 and '<html lang="es">' in faq.text
    assert "<h1>Centros de enfriamiento y de calor</h1>" in faq.text and "llame al 311" in faq.text
    faq = httpx.get(f"{base}/faq/cooling_warming_centers", headers={"Accept-Language": "es-US"}, timeout=30)
    assert '<html lang="es">' in faq.text and faq.headers["vary"] == "Accept-Language"


SESSION = "0b6f2a54-7d1c-4e8e-9a51-3f0c2d7e9b10"


@pytest.mark.parametrize(
    "body, status, error",
    [
        (b"this is not json", 400, "JSON"),
        (b"[1, 2]", 400, "object"),
        (json.dumps({"message": "hello"}).encode(), 400, "session"),
        (json.dumps({"session": "not-a-uuid", "message": "hello"}).encode(), 400, "session"),
        (json.dumps({"session": SESSION}).encode(), 400, "message"),
        (json.dumps({"session": SESSION, "message": "   "}).encode(), 400, "message"),
        (json.dumps({"session": SESSION, "message": 42}).encode(), 400, "message"),
        (json.dumps({"session": SESSION, "message": "x" * (MAX_MESSAGE_CHARS + 1)}).encode(), 413, "2000"),
        (json.dumps({"session": SESSION, "message": "hello", "metadata": ["x"]}).encode(), 400, "metadata"),
        (
            json.dumps({"session": SESSION, "message": "hi", "metadata": {"location": {"latitude": "north"}}}).encode(),
            400,
            "location",
        ),
        (
            json.dumps(
                {"session": SESSION, "message": "hi", "metadata": {"location": {"latitude": 91, "longitude": 0}}}
            ).encode(),
            400,
            "location",
        ),
        (json.dumps({"session": SESSION, "message": "hi", "metadata": {"language": 42}}).encode(), 400, "language"),
        (
            json.dumps({"session": SESSION, "message": "hi", "metadata": {"language": "<b>es</b>"}}).encode(),
            400,
            "language",
        ),
    ],
    ids=[
        "malformed",
        "array",
        "no-session",
        "bad-session",
        "no-message",
        "blank",
        "number",
        "too-long",
        "metadata",
        "location",
        "off-earth",
        "language-number",
        "language-markup",
    ],
)
def test_bad_webhook_bodies_get_a_clear_4xx(base, body, status, error):
    response = httpx.post(f"{base}{WEBHOOK}", content=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == status, response.text
    assert error in response.json()["error"]
    assert history(base, SESSION) == []  # nothing was stored or processed


def test_bad_history_and_event_requests_get_a_clear_4xx(base):
    for path, params in (
        ("history", {"session": "../../etc/passwd"}),
        ("history", {}),
        ("events", {"session": "nope"}),
        ("events", {"session": SESSION, "after": "latest"}),
        ("events", {"session": SESSION, "after": "-3"}),
    ):
        response = httpx.get(f"{base}/webhooks/webchat/{path}", params=params, timeout=10)
        assert response.status_code == 400, (path, params, response.text)
        assert response.json()["error"]


def test_a_message_gets_replies_and_the_transcript_keeps_both(base):
    session = new_session()
    assert history(base, session) == []
    response = say(base, session, "hello")
    assert response.status_code == 200
    replies = response.json()
    assert replies and all(r["role"] == "bot" for r in replies)
    assert "311 assistant" in replies[0]["text"]
    assert {"title": "Report a problem", "payload": "/report_problem"} in replies[0]["buttons"]
    stored = history(base, session)
    assert [(m["role"], m.get("text")) for m in stored] == [("user", "hello")] + [("bot", r["text"]) for r in replies]
    assert [m["id"] for m in stored[1:]] == [r["id"] for r in replies]
    assert history(base, new_session()) == []  # another browser sees nothing of it


def test_a_button_shows_its_title_and_sends_its_payload(base):
    session = new_session()
    say(base, session, "hello")
    replies = say(base, session, "/report_problem", title="Report a problem").json()
    assert "What kind of problem" in replies[0]["text"]  # Rasa got the payload
    assert history(base, session)[-len(replies) - 1]["text"] == "Report a problem"


def test_only_a_shared_location_reaches_rasa_as_metadata(base, shared_db):
    session = new_session()
    location = {"latitude": 41.5, "longitude": -90.5}
    metadata = {"location": location, "media_url": "https://elsewhere.example/not-a-photo.jpg"}
    assert say(base, session, "hello", metadata=metadata).status_code == 200
    tracker = httpx.get(
        f"{base}/conversations/{sender_id_for('webchat', session)}/tracker",
        params={"token": RASA_API_TOKEN},
        timeout=30,
    ).json()
    said = [e for e in tracker["events"] if e["event"] == "user"][-1]
    assert said["input_channel"] == "webchat"
    assert said["metadata"]["location"] == location
    assert "media_url" not in said["metadata"]


def test_out_of_band_messages_arrive_on_the_event_stream(base, shared_db):
    session = new_session()
    replies = say(base, session, "hello").json()
    params = {"session": session, "after": 0}
    with httpx.stream("GET", f"{base}/webhooks/webchat/events", params=params, timeout=15) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == "retry: 3000"
        first = read_events(lines, 1)[0]
        assert first["id"] == replies[0]["id"] and first["role"] == "bot"  # the resident's own message is not echoed
        rest = read_events(lines, len(replies) - 1)
        run_async(
            deliver(
                sender_id_for("webchat", session),
                "Your pothole request 1042 was closed: fixed.",
                [{"title": "Thanks", "payload": "thanks"}],
            )
        )
        run_async(WebChatSender().send(session, "Hi, this is Dana from Public Works.", role="staff"))
        pushed = read_events(lines, 2)
    assert [m["id"] for m in rest] == [r["id"] for r in replies[1:]]
    assert [(m["role"], m["text"]) for m in pushed] == [
        ("bot", "Your pothole request 1042 was closed: fixed."),
        ("staff", "Hi, this is Dana from Public Works."),
    ]
    assert pushed[0]["buttons"] == [{"title": "Thanks", "payload": "thanks"}]
    assert history(base, session)[-2:] == pushed

    # A reconnecting browser sends Last-Event-ID and gets only what it missed.
    headers = {"Last-Event-ID": str(pushed[0]["id"])}
    with httpx.stream("GET", f"{base}/webhooks/webchat/events", params=params, headers=headers, timeout=15) as stream:
        assert read_events(stream.iter_lines(), 1) == pushed[1:]


# --- the page in a browser -------------------------------------------------------------


GREETING = "I'm the City of Riverton's 311 assistant"


def open_chat(page: Page, base: str) -> None:
    """The page, once it shows the assistant's greeting (a new conversation opens with it)."""
    page.goto(f"{base}/chat")
    expect(page.get_by_label("Your message")).to_be_visible()
    expect(page.locator("#log .message--bot").first).to_contain_text(GREETING, timeout=REPLY_TIMEOUT)


def type_message(page: Page, text: str, label: str = "Your message") -> None:
    box = page.get_by_label(label)
    box.fill(text)
    box.press("Enter")


def choose(page: Page, title: str) -> None:
    """Click the reply button with this title among the latest choices."""
    page.locator("#log button.choice:enabled", has_text=re.compile(f"^{re.escape(title)}$")).click()


def say_hello(page: Page) -> None:
    """Say hello after the greeting the page opened with, and wait for the answer (a second greeting)."""
    type_message(page, "hello")
    expect(page.locator("#log .message--bot")).to_have_count(2, timeout=REPLY_TIMEOUT)
    bot_said(page, "311 assistant")


def transcript(page: Page) -> List[str]:
    """Each message as a screen reader reads it: who said it, then what."""
    return [" ".join(text.split()) for text in page.locator("#log .message").all_text_contents()]


def bot_said(page: Page, text: str) -> None:
    expect(page.locator("#log .message--bot").last).to_contain_text(text, timeout=REPLY_TIMEOUT)


def test_a_resident_files_a_pothole_report_from_the_page(stack, base, page):
    address = f"{random.randint(100, 9999)} Willow Street"
    open_chat(page, base)
    start_a_pothole_report(page)
    expect(page.locator("#log .message--user").nth(1)).to_have_text("You said: large (bigger than a car tire)")
    type_message(page, address)
    bot_said(page, "describe the problem")
    type_message(page, "A deep pothole in the bike lane, reported from the web chat")
    bot_said(page, "updates")
    choose(page, "Skip (stay anonymous)")
    bot_said(page, "Here's your report")
    expect(page.locator("#log")).to_contain_text(address)
    choose(page, "Yes, send it")
    number = page.locator("#log .message--bot", has_text="request number is")
    expect(number).to_have_count(1, timeout=REPLY_TIMEOUT)
    request_id = re.search(r"request number is (\w[\w-]*)", number.inner_text()).group(1)
    screenshot(page, "webchat-report.png")

    response = httpx.get(f"{stack.effective_open311_url}/requests/{request_id}.json", timeout=10)
    assert response.status_code == 200, response.text
    (request,) = response.json()
    assert request["service_code"] == "POTHOLE"
    assert request["address"] == address
    assert request["description"].startswith("A deep pothole in the bike lane, reported from the web chat")


def test_a_reload_keeps_the_conversation(base, page):
    open_chat(page, base)
    say_hello(page)
    type_message(page, "what day is trash pickup?")
    bot_said(page, "zone")
    before = transcript(page)
    page.reload()
    expect(page.locator("#log .message")).to_have_count(len(before))
    assert transcript(page) == before
    assert before[0].startswith(f"Riverton 311 said: Hi! {GREETING}")  # the greeting the page opened with
    assert before[1] == "You said: hello"
    assert before[2].startswith("Riverton 311 said: ")
    # Only the latest reply's choices can still be used.
    assert page.locator("#log .message").nth(2).locator("button.choice:enabled").count() == 0
    assert page.locator("#log .message").first.locator("button.choice:enabled").count() == 0


def test_keyboard_only(base, page):
    open_chat(page, base)
    box = page.get_by_label("Your message")
    for _ in range(10):  # the language link, New conversation, the greeting's buttons, then the box
        page.keyboard.press("Tab")
        if box.evaluate("node => node === document.activeElement"):
            break
    expect(box).to_be_focused()
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    expect(page.locator("#log .message--bot")).to_have_count(2, timeout=REPLY_TIMEOUT)
    expect(box).to_be_focused()

    page.keyboard.press("Shift+Tab")  # back from the message box to the latest reply's buttons
    focused = page.locator("#log button.choice:focus")
    expect(focused).to_have_count(1)
    title = focused.inner_text()
    replies_before = page.locator("#log .message--bot").count()
    style = focused.evaluate("node => { const s = getComputedStyle(node); return [s.outlineStyle, s.outlineWidth]; }")
    assert style[0] != "none" and float(style[1].rstrip("px")) >= 2, style  # a visible focus ring
    page.keyboard.press("Enter")
    expect(page.locator("#log .message--user").last).to_have_text(f"You said: {title}")
    expect(box).to_be_focused()  # the resident can carry on typing
    expect(page.locator("#log .message--bot").nth(replies_before)).to_be_visible(timeout=REPLY_TIMEOUT)


def test_pushed_messages_appear_with_links_and_nothing_is_taken_as_html(base, page, shared_db):
    open_chat(page, base)
    say_hello(page)
    session = page.evaluate("localStorage.getItem('citybot.webchat.session')")
    hostile = 'Fixed! <img src=x onerror="window.__hacked = 1"> Details: riverton.gov/parking, or mayor@riverton.gov.'
    run_async(WebChatSender().send(session, hostile, role="staff"))
    staff = page.locator("#log .message--staff")
    expect(staff).to_have_count(1, timeout=10_000)  # over the event stream, no reload
    expect(staff).to_contain_text("City staff said:")
    expect(staff.locator(".message__text")).to_have_text(
        hostile.replace("riverton.gov/parking", "riverton.gov/parking (opens in a new tab)")
    )
    assert page.locator("#log img").count() == 0
    assert page.evaluate("window.__hacked") is None
    expect(staff.locator("a", has_text="riverton.gov/parking")).to_have_attribute(
        "href", "https://riverton.gov/parking"
    )
    expect(staff.locator("a", has_text="mayor@riverton.gov")).to_have_attribute("href", "mailto:mayor@riverton.gov")


def test_the_typing_indicator_and_a_failed_send(base, page):
    held = []
    page.route(f"**{WEBHOOK}", lambda route: held.append(route))
    open_chat(page, base)
    greeted = page.locator("#log .message--bot").count()
    typing = page.get_by_role("status")
    expect(typing).to_be_hidden()
    type_message(page, "hello")
    expect(typing).to_be_visible()
    expect(typing).to_have_text(re.compile("Riverton 311 is typing"))
    held[0].fulfill(status=503, json={"error": "the assistant is restarting"})
    expect(typing).to_be_hidden()
    expect(page.get_by_role("alert")).to_contain_text("the assistant is restarting")
    assert page.locator("#log .message--bot").count() == greeted

    assert page.locator(".typing__dot").first.evaluate("n => getComputedStyle(n).animationName") == "typing-bounce"
    page.emulate_media(reduced_motion="reduce")
    assert page.locator(".typing__dot").first.evaluate("n => getComputedStyle(n).animationName") == "none"


def test_axe_finds_no_serious_problem_on_a_desktop_or_a_phone(base, page, shared_db):
    open_chat(page, base)
    say_hello(page)
    type_message(page, "what day is trash pickup?")
    bot_said(page, "riverton.gov/trash")
    session = page.evaluate("localStorage.getItem('citybot.webchat.session')")
    run_async(WebChatSender().send(session, "This is Dana from Public Works: the crew is on its way.", role="staff"))
    expect(page.locator("#log .message--staff")).to_have_count(1, timeout=10_000)
    assert page.title() and page.locator("html").get_attribute("lang") == "en"

    violations = serious_violations(page)
    assert not violations, describe(violations)
    screenshot(page, "webchat.png")

    for viewport in (PHONE, {"width": 320, "height": 640}):  # a phone; 1280 px at 400% zoom
        page.set_viewport_size(viewport)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], viewport
        violations = serious_violations(page)
        assert not violations, f"{viewport}: {describe(violations)}"
    page.set_viewport_size(PHONE)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    screenshot(page, "webchat-phone.png", full_page=False)  # as the phone shows it, message box on top


@pytest.fixture
def city_site(base) -> Iterator[str]:
    """A city's own web page on another origin, with the one-tag embed."""
    html = (
        '<!doctype html><html lang="en"><head><title>City of Riverton</title></head><body>'
        f'<main><h1>Welcome to Riverton</h1></main><script src="{base}/chat/embed.js" async></script></body></html>'
    ).encode()

    class CityPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), CityPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()


def test_the_embed_script_opens_the_chat_on_a_city_site(city_site, page):
    page.goto(city_site)
    assert page.locator("iframe").get_attribute("src") is None  # nothing loads until it is opened
    launcher = page.get_by_role("button", name="Chat with 311")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    frame = page.frame_locator("iframe[title='311 chat assistant']")
    box = frame.get_by_label("Your message")
    expect(box).to_be_visible()
    box.fill("hello")
    box.press("Enter")
    expect(frame.locator("#log .message--bot").first).to_contain_text("311 assistant", timeout=REPLY_TIMEOUT)
    box.press("Escape")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_be_focused()
    expect(page.locator("iframe[title='311 chat assistant']")).to_be_hidden()


# --- the page in Spanish ------------------------------------------------------------------

SPANISH_GREETING = "Soy el asistente 311 de la Ciudad de Riverton"


@pytest.fixture
def spanish_browser_page(browser_session: BrowserSession) -> Iterator[Page]:
    """A tab of a browser set to Mexican Spanish (its Accept-Language and navigator.language)."""
    with browser_session.active() as browser:
        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="es-MX")
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()


def test_a_spanish_page_is_answered_in_spanish_and_passes_axe(base, page, shared_db):
    page.goto(f"{base}/chat?lang=es")
    box = page.get_by_label("Su mensaje")
    expect(box).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.title().startswith("Asistente de Riverton 311 - ")
    expect(page.get_by_role("button", name="Nueva conversación")).to_be_visible()
    expect(page.get_by_role("link", name="English")).to_have_attribute("lang", "en")

    expect(page.locator("#log .message--bot").first).to_contain_text(SPANISH_GREETING, timeout=REPLY_TIMEOUT)
    type_message(page, "hello", "Su mensaje")  # an English word: the page's language (the hint) decides
    expect(page.locator("#log .message--bot")).to_have_count(2, timeout=REPLY_TIMEOUT)
    bot_said(page, SPANISH_GREETING)
    said = transcript(page)
    assert said[0].startswith("Riverton 311 dijo: ") and said[1] == "Usted dijo: hello"
    expect(page.get_by_role("group", name="Opciones de respuesta").last).to_be_visible()

    session = page.evaluate("localStorage.getItem('citybot.webchat.session')")
    run_async(WebChatSender().send(session, "Le escribe Dana, de Obras Públicas.", role="staff"))
    expect(page.locator("#log .message--staff")).to_contain_text("El personal de la ciudad dijo:", timeout=10_000)
    violations = serious_violations(page)
    assert not violations, describe(violations)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    violations = serious_violations(page)
    assert not violations, f"phone: {describe(violations)}"
    screenshot(page, "webchat-es.png")


def test_a_failed_send_is_explained_in_the_pages_language(base, page):
    page.route(f"**{WEBHOOK}", lambda route: route.abort())
    page.goto(f"{base}/chat?lang=es")
    type_message(page, "hola", "Su mensaje")
    expect(page.get_by_role("alert")).to_have_text(
        "Su mensaje no se envió (sin conexión). Inténtelo de nuevo o llame al 311."
    )


def test_a_browser_in_spanish_gets_the_spanish_page_and_embed(base, city_site, spanish_browser_page):
    page = spanish_browser_page
    page.goto(f"{base}/chat")
    expect(page.get_by_label("Su mensaje")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "es"

    page.goto(city_site)
    launcher = page.get_by_role("button", name="Chatear con el 311")
    expect(launcher).to_have_attribute("lang", "es")
    launcher.click()
    frame = page.frame_locator("iframe[title='Asistente de chat del 311']")
    expect(frame.get_by_label("Su mensaje")).to_be_visible()
    assert page.locator("iframe").get_attribute("src") == f"{base}/chat"  # the chat negotiates the same language


def test_the_language_link_switches_the_page_and_the_conversation(base, page):
    open_chat(page, base)
    say_hello(page)
    page.get_by_role("link", name="Español").click()
    page.wait_for_url("**/chat?lang=es")
    expect(page.get_by_label("Su mensaje")).to_be_visible()
    bot_said(page, "le escribiré en español")
    said = transcript(page)
    assert said[1] == "Usted dijo: hello" and "Usted dijo: Español" in said
    type_message(page, "hello", "Su mensaje")  # the resident's language is now Spanish, whatever the word
    expect(page.locator("#log .message--bot").last).to_contain_text(SPANISH_GREETING, timeout=REPLY_TIMEOUT)


# --- the greeting, New conversation, locations and photos ---------------------------------------

PHOTO = "/webhooks/webchat/photo"


def upload(base: str, session: str, data: bytes, kind: str = "application/octet-stream") -> httpx.Response:
    return httpx.post(f"{base}{PHOTO}", params={"session": session}, content=data, headers={"Content-Type": kind})


def last_user_event(base: str, session: str) -> Dict[str, Any]:
    tracker = httpx.get(
        f"{base}/conversations/{sender_id_for('webchat', session)}/tracker",
        params={"token": RASA_API_TOKEN},
        timeout=30,
    ).json()
    return [e for e in tracker["events"] if e["event"] == "user"][-1]


def test_a_new_conversation_opens_with_the_greeting_once(base):
    session = new_session()
    greeting = httpx.post(f"{base}/webhooks/webchat/start", json={"session": session}, timeout=60)
    assert greeting.status_code == 200
    (hello,) = greeting.json()
    assert GREETING in hello["text"] and {"title": "Report a problem", "payload": "/report_problem"} in hello["buttons"]
    assert history(base, session) == [hello]  # the greeting only: nothing shown as said by the resident
    again = httpx.post(f"{base}/webhooks/webchat/start", json={"session": session}, timeout=60)
    assert again.json() == [] and history(base, session) == [hello]
    spanish = httpx.post(
        f"{base}/webhooks/webchat/start", json={"session": new_session(), "metadata": {"language": "es"}}, timeout=60
    )
    assert SPANISH_GREETING in spanish.json()[0]["text"]
    assert httpx.post(f"{base}/webhooks/webchat/start", json={"session": "nope"}, timeout=10).status_code == 400


def test_bad_photos_get_a_clear_4xx_and_nothing_is_kept(base):
    session = new_session()
    refused = {
        "not-an-image": (upload(base, session, b"%PDF-1.7 not a photo"), 415, "not_a_photo"),
        "gif": (upload(base, session, photo_bytes("GIF")), 415, "not_a_photo"),
        "empty": (upload(base, session, b""), 400, "empty"),
        "form-post": (
            upload(base, session, photo_bytes("JPEG"), "multipart/form-data; boundary=x"),
            415,
            "not_a_photo",
        ),
        "too-large": (upload(base, session, b"\xff\xd8" + b"\0" * (10 * 1024 * 1024)), 413, "too_large"),
    }
    for name, (response, status, reason) in refused.items():
        assert (response.status_code, response.json()["reason"]) == (status, reason), (name, response.text)
        assert response.json()["error"]
    bad_session = httpx.post(f"{base}{PHOTO}", params={"session": "../x"}, content=photo_bytes("JPEG"))
    assert bad_session.status_code == 400
    assert history(base, session) == []

    kept = upload(base, session, photo_bytes("PNG"))
    assert kept.status_code == 201, kept.text
    ref, link = kept.json()["photo"], kept.json()["link"]
    assert kept.json()["position"] is None
    # Another conversation cannot send it; a forged or missing signature fetches nothing.
    stolen = say(base, new_session(), "", metadata={"photo": ref})
    assert stolen.status_code == 404 and "photo" in stolen.json()["error"]
    media, signature = link.split("?sig=")
    assert httpx.get(f"{media}?sig={'0' * len(signature)}", timeout=10).status_code == 403
    assert httpx.get(media, timeout=10).status_code == 403
    fetched = httpx.get(link, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    assert fetched.headers["x-content-type-options"] == "nosniff"


def test_photos_are_limited_per_conversation(base):
    session = new_session()
    small = photo_bytes("JPEG", size=(8, 8))
    statuses = [upload(base, session, small).status_code for _ in range(11)]
    assert statuses == [201] * 10 + [429]
    busy = upload(base, session, small)
    assert busy.json()["reason"] == "busy"
    assert upload(base, new_session(), small).status_code == 201  # another conversation is not held up


def drop_file(page: Page, data: bytes, name: str, kind: str) -> None:
    """Drop a file on the page as a browser does when one is dragged from the desktop."""
    transfer = page.evaluate_handle(
        """([b64, name, kind]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: kind }));
            return transfer;
        }""",
        [base64.b64encode(data).decode(), name, kind],
    )
    page.dispatch_event("#chat", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#drop-zone")).to_be_visible()
    page.dispatch_event("#chat", "drop", {"dataTransfer": transfer})
    expect(page.locator("#drop-zone")).to_be_hidden()


def start_a_pothole_report(page: Page) -> None:
    type_message(page, "I need to report a pothole")
    bot_said(page, "How big is it?")
    choose(page, "large (bigger than a car tire)")
    bot_said(page, "Where on the road?")
    choose(page, "bike lane")
    bot_said(page, "Where is it?")


def test_a_resident_files_a_pothole_with_a_photo_and_a_shared_location(stack, base, page):
    latitude, longitude = round(random.uniform(41.40, 41.45), 5), round(random.uniform(-90.65, -90.60), 5)
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": latitude, "longitude": longitude})
    open_chat(page, base)
    start_a_pothole_report(page)

    page.get_by_role("button", name="Share my location").click()
    expect(page.locator("#log .message--user").last).to_have_text("You said: my location")
    bot_said(page, "describe the problem")
    expect(page.locator("#notice")).to_have_text("Your location was shared.")

    # The description goes as the photo's caption; the photo says where it was taken, which is declined here.
    page.get_by_label("Your message").fill("Deep hole by the curb, photo from the web chat")
    page.locator("#photo-file").set_input_files(
        files=[{"name": "pothole.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes("JPEG", exif=camera_exif(GPS))}]
    )
    offer = page.get_by_role("group", name="This photo says where it was taken")
    expect(offer).to_be_visible()
    expect(page.get_by_role("button", name="Use the photo's location")).to_be_focused()
    violations = serious_violations(page)
    assert not violations, describe(violations)
    offer.get_by_role("button", name="Send it without the location").click()
    expect(offer).to_be_hidden()
    mine = page.locator("#log .message--user", has=page.get_by_role("img"))
    expect(mine).to_contain_text("Deep hole by the curb, photo from the web chat")
    expect(mine.get_by_role("img", name="Your photo")).to_be_visible()
    bot_said(page, "updates")
    expect(page.locator("#notice")).to_have_text("Your photo was sent.")
    choose(page, "Skip (stay anonymous)")
    bot_said(page, "Here's your report")
    choose(page, "Yes, send it")
    number = page.locator("#log .message--bot", has_text="request number is")
    expect(number).to_have_count(1, timeout=REPLY_TIMEOUT)
    request_id = re.search(r"request number is (\w[\w-]*)", number.inner_text()).group(1)
    screenshot(page, "webchat-photo-report.png")

    (request,) = httpx.get(f"{stack.effective_open311_url}/requests/{request_id}.json", timeout=10).json()
    assert (request["lat"], request["long"]) == (latitude, longitude)
    assert request["description"].startswith("Deep hole by the curb, photo from the web chat")
    media_url = request["media_url"]
    assert media_url.startswith(f"http://127.0.0.1:{stack.rasa_port}/webhooks/webchat/media/")
    photo = httpx.get(media_url, timeout=10)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    kept = opened(photo.content)
    assert kept.size == (64, 48) and has_no_metadata(kept)  # no camera, no GPS position left in it
    assert mine.get_by_role("img").get_attribute("src") == media_url


def test_a_dropped_photo_offers_where_it_was_taken_as_the_location(base, page, shared_db):
    open_chat(page, base)
    start_a_pothole_report(page)
    drop_file(page, photo_bytes("HEIF", exif=camera_exif(GPS).tobytes()), "IMG_0042.HEIC", "image/heic")
    use = page.get_by_role("button", name="Use the photo's location")
    expect(use).to_be_focused()
    page.keyboard.press("Enter")
    bot_said(page, "describe the problem")  # the photo's place answered "Where is it?"
    expect(page.get_by_label("Your message")).to_be_focused()
    said = last_user_event(base, page.evaluate("localStorage.getItem('citybot.webchat.session')"))
    assert said["metadata"]["location"] == {"latitude": RIVERTON[0], "longitude": RIVERTON[1]}
    assert "/webhooks/webchat/media/" in said["metadata"]["media_url"]


def test_a_refused_location_or_a_bad_file_is_explained_and_the_resident_can_type(base, page):
    open_chat(page, base)  # no geolocation permission: the browser refuses
    page.get_by_role("button", name="Share my location").click()
    expect(page.get_by_role("alert")).to_contain_text("Please type the address or the nearest intersection instead.")
    expect(page.get_by_label("Your message")).to_be_focused()

    page.locator("#photo-file").set_input_files(
        files=[{"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 minutes of the meeting"}]
    )
    expect(page.get_by_role("alert")).to_have_text(
        "That file is not a photo we can take. Please send a JPEG, PNG or HEIC photo."
    )
    page.locator("#photo-file").set_input_files(
        files=[{"name": "huge.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" + b"\0" * (11 * 1024 * 1024)}]
    )
    expect(page.get_by_role("alert")).to_contain_text("That file is too large: a photo can be up to 10 MB.")
    assert page.locator("#log .message--user").count() == 0


def test_new_conversation_asks_before_it_clears_the_page(base, page):
    open_chat(page, base)
    say_hello(page)
    session = page.evaluate("localStorage.getItem('citybot.webchat.session')")
    before = transcript(page)

    restart = page.get_by_role("button", name="New conversation")
    restart.click()
    question = page.get_by_role("dialog", name="Start a new conversation?")
    expect(question).to_be_visible()
    expect(question.get_by_role("button", name="Keep this conversation")).to_be_focused()
    violations = serious_violations(page)
    assert not violations, describe(violations)
    page.keyboard.press("Escape")
    expect(question).to_be_hidden()
    expect(restart).to_be_focused()
    restart.click()
    question.get_by_role("button", name="Keep this conversation").click()
    assert transcript(page) == before
    assert page.evaluate("localStorage.getItem('citybot.webchat.session')") == session

    restart.click()
    question.get_by_role("button", name="Start over").click()
    expect(page.locator("#log .message")).to_have_count(1, timeout=REPLY_TIMEOUT)
    expect(page.locator("#log .message--bot")).to_contain_text(GREETING)
    assert page.evaluate("localStorage.getItem('citybot.webchat.session')") != session
    expect(page.get_by_label("Your message")).to_be_focused()
