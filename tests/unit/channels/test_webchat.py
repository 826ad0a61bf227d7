"""The web chat webhook: the page's language hint checked like any input, the apology in the resident's language.

The same API over real HTTP, and the page in a browser, are in tests/e2e/test_webchat.py.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Iterator

import pytest

from bot.channels import webchat, webchat_photos
from bot.channels.hooks import NOT_TYPED
from bot.channels.identity import sender_id_for
from bot.channels.media import media_signature
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


# --- photos and the opening -----------------------------------------------------------------

OTHER_SESSION = "5d0c8f3e-2b7a-4c61-8e0f-9a4b3c2d1e0f"


def photo_body(session: str = SESSION, message: str = "", **metadata: Any) -> bytes:
    return json.dumps({"session": session, "message": message, "metadata": metadata}).encode()


@pytest.mark.parametrize("ref", [42, "", "../../etc/passwd", "a b", "x" * 300, ["abc"]])
def test_a_photo_is_named_only_by_a_reference_an_upload_could_have_answered(ref: Any) -> None:
    with pytest.raises(BadRequest, match="metadata.photo"):
        parse_turn(photo_body(photo=ref))


def test_a_message_may_be_empty_only_when_it_sends_a_photo() -> None:
    assert parse_turn(photo_body(photo="abc_DEF-123")).metadata == {"photo": "abc_DEF-123"}
    with pytest.raises(BadRequest, match="message is required"):
        parse_turn(photo_body())


def test_the_opening_keeps_only_the_pages_language_and_says_the_resident_did_not_type_it() -> None:
    opening = webchat.parse_opening(photo_body(language="es-MX", photo="abc", location={"latitude": 1, "longitude": 2}))
    assert (opening.text, opening.metadata) == ("/greet", {"language": "es", NOT_TYPED: True})
    assert webchat.parse_opening(json.dumps({"session": SESSION}).encode()).metadata == {NOT_TYPED: True}
    # A page cannot pass its own message off as not typed.
    assert NOT_TYPED not in (webchat.parse_metadata({"metadata": {NOT_TYPED: True}}) or {})
    with pytest.raises(BadRequest, match="session"):
        webchat.parse_opening(b'{"session": "nope"}')


@pytest.fixture
def public_url(monkeypatch: pytest.MonkeyPatch) -> str:
    url = "https://bot.riverton.example"
    monkeypatch.setenv("PUBLIC_URL", url)
    return url


async def test_only_a_photo_of_the_same_conversation_is_attached_as_its_media_url(sender: str, public_url: str) -> None:
    ref = await webchat_photos.keep_photo(sender, "image/jpeg", b"\xff\xd8 a photo")
    turn = await webchat.attach_photo(parse_turn(photo_body(photo=ref, language="es")))
    link = f"{public_url}/webhooks/webchat/media/{ref}?sig={media_signature('webchat', ref)}"
    assert turn.metadata == {"language": "es", "media_url": link} and turn.image == link
    assert (turn.text, turn.shown) == ("foto", "")  # the stand-in in the page's language; the page shows the photo
    captioned = await webchat.attach_photo(parse_turn(photo_body(message="Deep hole by the curb", photo=ref)))
    assert (captioned.text, captioned.shown) == ("Deep hole by the curb", "Deep hole by the curb")

    with pytest.raises(BadRequest, match="not a photo this conversation uploaded") as refused:
        await webchat.attach_photo(parse_turn(photo_body(OTHER_SESSION, photo=ref)))
    assert refused.value.status == 404
    with pytest.raises(BadRequest):
        await webchat.attach_photo(parse_turn(photo_body(photo="never-uploaded")))


async def test_a_photo_message_is_kept_in_the_transcript_with_its_link(sender: str, public_url: str) -> None:
    ref = await webchat_photos.keep_photo(sender, "image/png", b"\x89PNG a photo")
    turn = await webchat.attach_photo(parse_turn(photo_body(photo=ref)))
    seen = []

    async def assistant(message: Any) -> None:
        seen.append((message.text, message.metadata))

    await WebChatInput().handle(turn, assistant)
    assert seen == [("photo", {"media_url": turn.image})]
    (kept,) = await messages_after(sender)
    assert kept["role"] == "user" and kept["image"] == turn.image and "text" not in kept


async def test_uploads_are_limited_per_conversation_and_for_everyone(
    sender: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBCHAT_PHOTOS_PER_HOUR", "2")
    monkeypatch.setenv("WEBCHAT_PHOTOS_PER_MINUTE", "3")
    other = sender_id_for("webchat", OTHER_SESSION)
    for _ in range(2):
        assert not await webchat_photos.too_many_uploads(sender)
        await webchat_photos.keep_photo(sender, "image/jpeg", b"x")
    assert await webchat_photos.too_many_uploads(sender)
    assert not await webchat_photos.too_many_uploads(other)
    await webchat_photos.keep_photo(other, "image/jpeg", b"x")
    assert await webchat_photos.too_many_uploads(other)  # three in the last minute, whoever sent them


async def test_a_process_holding_its_most_uploads_answers_busy_before_reading_another(
    sender: str, public_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = SimpleNamespace(headers={"content-type": "image/jpeg"})
    monkeypatch.setattr(webchat_photos, "_in_flight", webchat_photos.MAX_UPLOADS_IN_FLIGHT)
    busy = await webchat_photos.receive_photo(request, sender)  # type: ignore[arg-type]
    assert busy.status == 429 and json.loads(busy.body)["reason"] == "busy"
    monkeypatch.setattr(webchat_photos, "_in_flight", 0)
    form = await webchat_photos.receive_photo(SimpleNamespace(headers={"content-type": "text/plain"}), sender)  # type: ignore[arg-type]
    assert form.status == 415 and json.loads(form.body)["reason"] == "not_a_photo"
