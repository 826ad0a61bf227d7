"""The web chat webhook: the page's language hint checked like any input, the apology in the resident's language.

The same API over real HTTP, and the page in a browser, are in tests/e2e/test_webchat.py.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from bot.channels import webchat
from bot.channels.identity import sender_id_for
from bot.channels.webchat import BadRequest, WebChatInput, messages_after, parse_turn
from bot.db.engine import reset_database
from bot.i18n.messages import messages
from bot.i18n.store import remember_language, stored_language

SESSION = "0b6f2a54-7d1c-4e8e-9a51-3f0c2d7e9b10"


def body(**metadata: Any) -> bytes:
    return json.dumps({"session": SESSION, "message": "hola", "metadata": metadata}).encode()


@pytest.mark.parametrize("sent, hint", [("es", "es"), ("es-MX", "es"), ("EN-us", "en"), ("Spanish", "es")])
def test_the_pages_language_reaches_rasa_as_a_city_language(sent: str, hint: str) -> None:
    assert parse_turn(body(language=sent)).metadata == {"language": hint}
    assert parse_turn(body(language=sent)).language == hint


def test_a_language_the_city_does_not_offer_is_dropped() -> None:
    assert parse_turn(body(language="fr")).metadata is None
    location = {"latitude": 41.5, "longitude": -90.5}
    assert parse_turn(body(language="fr", location=location)).metadata == {"location": location}
    assert parse_turn(body(language="es", location=location)).metadata == {"location": location, "language": "es"}
    assert parse_turn(body(language=None)).language is None


@pytest.mark.parametrize(
    "sent", [42, ["es"], {"code": "es"}, "", "es; DROP TABLE", "<script>alert(1)</script>", "es-" + "x" * 40, True]
)
def test_anything_but_a_short_language_tag_is_refused(sent: Any) -> None:
    with pytest.raises(BadRequest, match="metadata.language") as refused:
        parse_turn(body(language=sent))
    assert refused.value.status == 400


def test_other_metadata_is_still_dropped() -> None:
    assert parse_turn(body(language="es", media_url="https://elsewhere.example/x.jpg")).metadata == {"language": "es"}


@pytest.fixture
def database(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, city: None) -> Iterator[None]:
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CITYBOT_SECRET_KEY", "webchat-test-key")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


@pytest.fixture
def sender(database: None) -> str:
    """The conversation id of SESSION (it needs the secret key the database fixture sets)."""
    return sender_id_for("webchat", SESSION)


async def failing(_message: Any) -> None:
    raise RuntimeError("the assistant fell over")


async def test_a_resident_never_seen_gets_the_apology_in_the_pages_language(sender: str) -> None:
    channel = WebChatInput()
    replies = await channel.handle(parse_turn(body(language="es")), failing)
    apology = messages("es").text("web.chat.apology", phone="311")
    assert apology.startswith("Lo sentimos") and [r["text"] for r in replies] == [apology]
    assert [m["text"] for m in await messages_after(sender)] == ["hola", apology]
    assert await stored_language(sender) is None  # a hint is not a choice: the assistant stores that


async def test_a_resident_with_a_language_gets_the_apology_in_theirs(sender: str) -> None:
    await remember_language(sender, "en")
    replies = await WebChatInput().handle(parse_turn(body(language="es")), failing)
    assert [r["text"] for r in replies] == [messages("en").text("web.chat.apology", phone="311")]
    assert replies[0]["text"].startswith("Sorry, something went wrong")


async def test_the_apology_goes_out_even_when_the_language_cannot_be_read(
    sender: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(_sender_id: str) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(webchat, "stored_language", broken)
    assert await webchat.apology(sender, "es") == messages("es").text("web.chat.apology", phone="311")
    assert await webchat.apology(sender, None) == messages("en").text("web.chat.apology", phone="311")
