"""Telegram: residents talk to the assistant in a Telegram chat.

Telegram posts every Update to `POST /webhooks/telegram/webhook` on the Rasa
server, with the secret given at `set-webhook` time in a header. Each update
becomes one user message of the chat's conversation (a pseudonymous id, see
identity.py); the replies go back through one shared python-telegram-bot `ExtBot`,
whose `AIORateLimiter` waits out Telegram's flood control (a 429) and retries.
Everything is configured from the environment (see README, "Telegram"):
without TELEGRAM_BOT_TOKEN the channel stays off and the server runs without it.

`python -m bot.channels.telegram set-webhook` registers the webhook.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import mimetypes
import re
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Set, Text, Tuple
from urllib.parse import urlsplit

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, TelegramObject, Update
from telegram.constants import (
    ChatType,
    FileSizeLimit,
    InlineKeyboardButtonLimit,
    MessageLimit,
    UpdateType,
    WebhookLimit,
)
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from bot.channels.identity import mask, require_production_secret, sender_id_for
from bot.channels.language import resident_texts
from bot.channels.limits import MAX_MESSAGE_CHARS, BodyTooLarge, read_capped_body, text_too_long
from bot.channels.media import media_error, media_signature_ok, signed_media_url, stream_remote
from bot.channels.outbound import Buttons, register_sender
from bot.db.contacts import contact_for, first_delivery, remember_contact
from bot.failures import failure_summary
from bot.i18n.messages import Messages
from bot.settings import settings
from bot.web.hsts import hsts_for_whole_app

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What setWebhook accepts as a secret token.
SECRET_FORMAT = re.compile(rf"[A-Za-z0-9_-]{{1,{WebhookLimit.MAX_SECRET_TOKEN_LENGTH}}}")
# Only the updates the assistant answers; Telegram then sends nothing else.
ALLOWED_UPDATES = [UpdateType.MESSAGE, UpdateType.EDITED_MESSAGE, UpdateType.CALLBACK_QUERY]
# After a 429 ("retry after n seconds") PTB's limiter holds the Bot's calls that long and repeats this one once.
FLOOD_RETRIES = 1

# Commands Telegram clients offer, as the intents they stand for.
COMMANDS = {"start": "/greet", "help": "/help", "cancel": "/cancel"}
# Texts by key of the `channels` catalog, written in the resident's language when the update is answered.
LOCATION_TEXT = "channels.my_location"  # what a shared location says to the assistant
PHOTO_TEXT = "channels.telegram_photo"  # ...and a photo without a caption
UNSUPPORTED_REPLY = "channels.unsupported"
TOO_LONG_REPLY = "channels.too_long"
EDITED_REPLY = "channels.edited"
EXPIRED_BUTTON_REPLY = "channels.button_expired"
CHOOSE_TEXT = "channels.choose"
# The message metadata's language hint, read by bot/rasa_ext/patches/resident_language.py.
LANGUAGE_HINT = "language"


def fixed_reply(key: str, texts: Messages) -> str:
    """One of the channel's own replies in the resident's language."""
    return texts.text(key, max_chars=MAX_MESSAGE_CHARS)


class TelegramSetupError(Exception):
    """The environment does not allow the requested Telegram operation."""


# --- configuration ------------------------------------------------------------


def derived_file_base_url(api_base_url: str) -> str:
    """Telegram serves files from `<host>/file/bot<token>/...` next to `<host>/bot<token>/`."""
    parts = urlsplit(api_base_url)
    return f"{parts.scheme}://{parts.netloc}/file/bot"


@dataclass(frozen=True)
class TelegramSettings:
    """The bot's credentials and API addresses, from the environment only."""

    token: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    file_base_url: str = field(default_factory=lambda: derived_file_base_url(DEFAULT_API_BASE_URL))

    @classmethod
    def from_env(cls) -> "TelegramSettings":
        config = settings()
        return cls.from_credentials(
            {
                "token": config.telegram_bot_token,
                "secret_token": config.telegram_secret_token,
                "api_base_url": config.telegram_api_base_url,
                "file_base_url": config.telegram_file_base_url,
            }
        )

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> "TelegramSettings":
        """From the channel's credentials.yml section (token, secret_token, api_base_url, file_base_url)."""
        api = (credentials.get("api_base_url") or "").strip() or DEFAULT_API_BASE_URL
        files = (credentials.get("file_base_url") or "").strip() or derived_file_base_url(api)
        return cls(
            token=(credentials.get("token") or "").strip(),
            secret=(credentials.get("secret_token") or "").strip(),
            api_base_url=api,
            file_base_url=files,
        )

    @property
    def bot_problem(self) -> Optional[str]:
        """Why no message can be sent at all, or None."""
        if not self.token:
            return "TELEGRAM_BOT_TOKEN is not set"
        if not self.api_base_url.startswith(("https://", "http://")):
            return "TELEGRAM_API_BASE_URL must be an http(s) URL"
        return None

    @property
    def webhook_problem(self) -> Optional[str]:
        """Why the webhook must stay closed, or None: unverified updates are never accepted."""
        if self.bot_problem:
            return self.bot_problem
        if not self.secret:
            return "TELEGRAM_BOT_TOKEN is set but TELEGRAM_SECRET_TOKEN is not: refusing unverified updates"
        if not SECRET_FORMAT.fullmatch(self.secret):
            return "TELEGRAM_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
        return None


class _HideToken(logging.Filter):
    """Replaces the bot token in log lines: httpx logs every Bot API URL, which embeds it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<TELEGRAM_BOT_TOKEN>"), None
        return True


_hidden_tokens: Set[str] = set()


def hide_token_in_logs(token: str) -> None:
    if token in _hidden_tokens:
        return
    _hidden_tokens.add(token)
    for name in (
        "httpx",
        "telegram.Bot",
        "telegram.ext.ExtBot",
        "telegram.ext.AIORateLimiter",
        __name__,
        "bot.channels.media",
    ):
        logging.getLogger(name).addFilter(_HideToken(token))


# --- sending ------------------------------------------------------------------


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> List[str]:
    """Cut a text Telegram would refuse as too long, at a paragraph, line or word break."""
    rest = (text or "").strip()
    chunks: List[str] = []
    while _utf16_length(rest) > limit:
        end = limit
        while _utf16_length(rest[:end]) > limit:  # astral characters (emoji) count twice
            end -= max(1, (_utf16_length(rest[:end]) - limit) // 2)
        window = rest[:end]
        cut = next((i for i in (window.rfind(s) for s in ("\n\n", "\n", " ")) if i > end // 2), max(end, 1))
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


class ButtonPayloads:
    """Button payloads as callback_data, which Telegram caps in bytes.

    A payload that fits is sent as it is (every payload of this bot does). A
    longer one goes out as a short key remembered here, in memory and bounded.
    A key this process does not know (after a restart) is read as the pressed
    button's title, which the resident could have typed just as well.
    """

    KEY_PREFIX = "#k:"

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._by_key: "OrderedDict[str, str]" = OrderedDict()

    def data_for(self, payload: str) -> str:
        fits = len(payload.encode("utf-8")) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
        if fits and not payload.startswith(self.KEY_PREFIX):
            return payload
        key = self.KEY_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
        self._by_key[key] = payload
        self._by_key.move_to_end(key)
        while len(self._by_key) > self.capacity:
            self._by_key.popitem(last=False)
        return key

    def payload_for(self, data: str) -> Optional[str]:
        """The payload behind a pressed button's data; None for a forgotten key."""
        if data.startswith(self.KEY_PREFIX):
            return self._by_key.get(data)
        return data

    def keyboard(self, buttons: Buttons) -> Optional[InlineKeyboardMarkup]:
        """Rasa buttons as an inline keyboard, one button a row (titles are long)."""
        rows = []
        for button in buttons or []:
            if not isinstance(button, dict):
                continue
            title = str(button.get("title") or button.get("payload") or "").strip()
            payload = str(button.get("payload") or title)
            if title:
                rows.append([InlineKeyboardButton(title, callback_data=self.data_for(payload))])
        return InlineKeyboardMarkup(rows) if rows else None


def _chat_id(address: str) -> Any:
    return int(address) if re.fullmatch(r"-?\d+", address) else address


def flood_control() -> AIORateLimiter:
    """PTB's limiter, for Telegram's 429s only.

    The pace stays where it was: a broadcast keeps to the alert limiter's rate
    (ALERT_RATE_TELEGRAM), and each reply answers one resident's message.
    """
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=FLOOD_RETRIES)


class TelegramSender:
    """The process's one Bot: replies, outbound messages, button answers, file links.

    It is also the channel's OutboundSender (status updates, staff replies).
    """

    channel = CHANNEL

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings
        hide_token_in_logs(settings.token)
        self.bot = ExtBot(
            settings.token,
            base_url=settings.api_base_url,
            base_file_url=settings.file_base_url,
            rate_limiter=flood_control(),
        )
        self.buttons = ButtonPayloads()
        self._initialized = False
        self._lock = asyncio.Lock()

    async def ready(self) -> Bot:
        """The Bot, initialized (one getMe) the first time it is needed."""
        if not self._initialized:
            async with self._lock:
                if not self._initialized:
                    await self.bot.initialize()
                    self._initialized = True
        return self.bot

    async def send(self, address: str, text: str, buttons: Buttons = None) -> None:
        """Send a text (split when too long, buttons under the last part); raises TelegramError."""
        bot = await self.ready()
        markup = self.buttons.keyboard(buttons)
        chunks = split_text(text)
        if not chunks and markup:  # Telegram needs a text over buttons
            chunks = [(await resident_texts(sender_id_for(CHANNEL, address))).text(CHOOSE_TEXT)]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await bot.send_message(chat_id=_chat_id(address), text=chunk, reply_markup=markup if last else None)

    async def send_photo(self, address: str, url: str) -> None:
        bot = await self.ready()
        await bot.send_photo(chat_id=_chat_id(address), photo=url)

    async def answer_callback(self, callback_id: str) -> None:
        """Stop the pressed button's spinner; a failure here costs nothing but the spinner."""
        try:
            bot = await self.ready()
            await bot.answer_callback_query(callback_id)
        except TelegramError as error:
            logger.warning("telegram: could not answer a button press: %s", error)

    async def file_download_url(self, file_id: str) -> str:
        """Telegram's short-lived download URL of a file (it embeds the token: never hand it out)."""
        bot = await self.ready()
        found = await bot.get_file(file_id)
        if not found.file_path:
            raise TelegramSetupError("Telegram gave no path for the file")
        return found.file_path


_shared_sender: Optional[TelegramSender] = None


def shared_sender(settings: TelegramSettings) -> TelegramSender:
    """The process-wide sender (one Bot, one connection pool) for these settings."""
    global _shared_sender
    if _shared_sender is None or _shared_sender.settings != settings:
        _shared_sender = TelegramSender(settings)
    return _shared_sender


def sender_from_env() -> Optional[TelegramSender]:
    """The Telegram OutboundSender when TELEGRAM_BOT_TOKEN is set (the secret is not needed to send)."""
    require_production_secret()
    settings = TelegramSettings.from_env()
    return None if settings.bot_problem else shared_sender(settings)


# --- reading updates ------------------------------------------------------------

# JSON field names PTB spells differently.
_PTB_NAMES = {"from": "from_user"}


def _get(source: Any, *path: str) -> Any:
    """A field read the same way from a PTB object or from the raw JSON (which PTB may refuse)."""
    value = source
    for name in path:
        if isinstance(value, Mapping):
            value = value.get(name)
        elif isinstance(value, TelegramObject):
            value = getattr(value, _PTB_NAMES.get(name, name), None)
        else:
            return None
    return value


def _int(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> Optional[str]:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _coordinates(location: Any) -> Optional[Dict[str, float]]:
    latitude, longitude = _get(location, "latitude"), _get(location, "longitude")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (latitude, longitude)):
        return None
    if -90 <= latitude <= 90 and -180 <= longitude <= 180:
        return {"latitude": float(latitude), "longitude": float(longitude)}
    return None


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, (list, tuple)) else ()


@dataclass
class Incoming:
    """What the assistant takes from one update, whatever shape the update came in."""

    chat_id: Optional[int]
    text: Optional[str] = None  # the resident's message, for Rasa
    metadata: Dict[str, Any] = field(default_factory=dict)
    reply: Optional[str] = None  # the key of a fixed answer instead of a conversation turn
    callback_id: Optional[str] = None  # a button press to answer
    stand_in: Optional[str] = None  # the key of what a location or photo without text says to Rasa
    language: Optional[str] = None  # the resident's Telegram language (`from.language_code`: "es", "es-MX")


def _parse(data: Dict[str, Any], bot: Bot) -> Any:
    """The PTB Update, or the raw dict when PTB refuses it (old or partial payloads)."""
    try:
        update = Update.de_json(data, bot)
        return update if update is not None else data
    except Exception as error:  # PTB raises TypeError/KeyError/... on missing required fields
        logger.debug("telegram: reading a non-standard update from its raw fields (%s)", type(error).__name__)
        return data


def _private_chat_id(message: Any) -> Optional[int]:
    """The chat of a message; None outside private chats (a 311 report is one resident's)."""
    chat_type = _get(message, "chat", "type")
    if chat_type not in (None, ChatType.PRIVATE):
        return None
    return _int(_get(message, "chat", "id"))


def _as_user_text(text: str) -> str:
    """Commands as the intents they stand for; other slashes dropped, so typing cannot inject intents."""
    if not text.startswith("/"):
        return text
    command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    if command in COMMANDS:
        return COMMANDS[command]
    return text.lstrip("/").strip()


def _photo_size_rank(size: Any) -> Tuple[int, int]:
    return (_int(_get(size, "width")) or 0) * (_int(_get(size, "height")) or 0), _int(_get(size, "file_size")) or 0


def _photo_file_id(message: Any) -> Optional[str]:
    """The largest size of a photo, or an image sent as a file, that getFile can serve."""
    sizes = [p for p in _sequence(_get(message, "photo")) if _text(_get(p, "file_id"))]
    if sizes:
        return _text(_get(max(sizes, key=_photo_size_rank), "file_id"))
    document = _get(message, "document")
    if str(_get(document, "mime_type") or "").startswith("image/"):
        if (_int(_get(document, "file_size")) or 0) <= FileSizeLimit.FILESIZE_DOWNLOAD:
            return _text(_get(document, "file_id"))
    return None


def _language_code(source: Any) -> Optional[str]:
    """The language the sender's Telegram app is in, as Telegram gives it ("es", "es-MX")."""
    return _text(_get(source, "from", "language_code"))


def _read_message(message: Any) -> Optional[Incoming]:
    incoming = _read_content(message)
    if incoming is not None:
        incoming.language = _language_code(message)
    return incoming


def _read_content(message: Any) -> Optional[Incoming]:
    chat_id = _private_chat_id(message)
    if chat_id is None:
        return None
    text = _text(_get(message, "text"))
    if text and text_too_long(text):
        # Answered, not refused: Telegram would redeliver a refused update again and again.
        return Incoming(chat_id, reply=TOO_LONG_REPLY)
    if text:
        user_text = _as_user_text(text)
        return Incoming(chat_id, text=user_text) if user_text else Incoming(chat_id, reply=UNSUPPORTED_REPLY)
    location = _coordinates(_get(message, "venue", "location")) or _coordinates(_get(message, "location"))
    if location:
        return Incoming(chat_id, stand_in=LOCATION_TEXT, metadata={"location": location})
    file_id = _photo_file_id(message)
    if file_id:
        url = signed_media_url(CHANNEL, file_id)
        caption = _text(_get(message, "caption"))
        if caption and text_too_long(caption):
            return Incoming(chat_id, reply=TOO_LONG_REPLY)
        return Incoming(chat_id, text=caption, stand_in=PHOTO_TEXT, metadata={"media_url": url} if url else {})
    contact = _get(message, "contact")
    details = [_text(_get(contact, k)) for k in ("first_name", "last_name", "phone_number")]
    if any(details):
        return Incoming(chat_id, text=" ".join(d for d in details if d))
    return Incoming(chat_id, reply=UNSUPPORTED_REPLY)


def _pressed_title(query: Any, data: str) -> Optional[str]:
    """The title of the pressed button, read from the message it was on."""
    for row in _sequence(_get(query, "message", "reply_markup", "inline_keyboard")):
        for button in _sequence(row):
            if _get(button, "callback_data") == data:
                return _text(_get(button, "text"))
    return None


def _read_callback(query: Any, payloads: ButtonPayloads) -> Incoming:
    incoming = Incoming(
        _private_chat_id(_get(query, "message")), callback_id=_text(_get(query, "id")), language=_language_code(query)
    )
    data = _get(query, "data")
    if isinstance(data, str) and data:
        incoming.text = payloads.payload_for(data) or _pressed_title(query, data)
    if not incoming.text:
        incoming.reply = EXPIRED_BUTTON_REPLY
    return incoming


def read_update(data: Dict[str, Any], bot: Bot, payloads: ButtonPayloads) -> Optional[Incoming]:
    """The message, button press or edit an update carries; None for anything not answered."""
    update = _parse(data, bot)
    message = _get(update, "message")
    if message is not None:
        return _read_message(message)
    query = _get(update, "callback_query")
    if query is not None:
        return _read_callback(query, payloads)
    edited = _get(update, "edited_message")
    if edited is not None:
        chat_id = _private_chat_id(edited)
        return Incoming(chat_id, reply=EDITED_REPLY, language=_language_code(edited)) if chat_id is not None else None
    return None  # inline queries, channel posts, polls, membership changes: nothing to say


# --- the Rasa channel -------------------------------------------------------------


async def _address_of(sender_id: str) -> Optional[str]:
    """The chat of a conversation, for messages Rasa sends outside a webhook call."""
    contact = await contact_for(sender_id)
    if contact is None or contact.channel != CHANNEL or contact.opted_out:
        return None
    return str(contact.address)


class TelegramOutput(OutputChannel):
    """The assistant's replies in one Telegram chat, through the shared Bot.

    A delivery failure (the resident blocked the bot, Telegram is down) is logged
    and does not break the conversation's turn.
    """

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    def __init__(self, sender: TelegramSender, address: Optional[str] = None) -> None:
        self.sender = sender
        self.address = address

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._deliver(recipient_id, lambda address: self.sender.send(address, text))

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._deliver(recipient_id, lambda address: self.sender.send(address, text, buttons))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._deliver(recipient_id, lambda address: self.sender.send_photo(address, image))

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        """Custom payloads are for other channels; only a text in one is worth sending here."""
        text = _text(json_message.get("text")) if isinstance(json_message, dict) else None
        if text:
            await self.send_text_message(recipient_id, text)

    async def _deliver(self, recipient_id: Text, send: Callable[[str], Awaitable[None]]) -> None:
        address = self.address or await _address_of(recipient_id)
        if address is None:
            logger.warning("telegram: no reachable chat for conversation %s", recipient_id)
            return
        try:
            await send(address)
        except TelegramError as error:
            logger.warning("telegram: message to chat %s not delivered: %s", mask(address), error)


def _off_response(reason: str) -> HTTPResponse:
    return response.json({"ok": False, "error": f"the Telegram channel is off: {reason}"}, status=503)


class TelegramInput(InputChannel):
    """Telegram's webhook on the Rasa server; off (503) until the environment configures it."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TelegramInput":
        return cls(TelegramSettings.from_credentials(credentials or {}))

    def __init__(self, settings: Optional[TelegramSettings] = None) -> None:
        require_production_secret()
        self.settings = settings or TelegramSettings.from_env()
        self.off_reason = self.settings.webhook_problem
        self.sender: Optional[TelegramSender] = None
        if self.off_reason is None:
            self.sender = shared_sender(self.settings)
            register_sender(self.sender)
            logger.info("Telegram channel is on: POST /webhooks/telegram/webhook")
        elif self.settings.token:
            logger.error("Telegram channel is off: %s", self.off_reason)
        else:
            logger.info("Telegram channel is off: %s", self.off_reason)

    def get_output_channel(self) -> Optional[OutputChannel]:
        return TelegramOutput(self.sender) if self.sender else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("citybot_telegram", __name__)
        hsts_for_whole_app(hook)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.sender else "off"})

        @hook.route("/webhook", methods=["POST"], stream=True)  # the body is read under its cap
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @hook.route("/media/<file_id>", methods=["GET"])
        async def media(request: Request, file_id: str) -> Optional[HTTPResponse]:
            return await self._media(request, file_id)

        return hook

    def _secret_ok(self, given: Optional[str]) -> bool:
        if not given:
            return False
        return hmac.compare_digest(given.encode("utf-8"), self.settings.secret.encode("utf-8"))

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        sender = self.sender
        if sender is None:
            return _off_response(self.off_reason or "not configured")
        if not self._secret_ok(request.headers.get(SECRET_HEADER)):
            return response.json({"ok": False, "error": "wrong or missing secret token"}, status=403)
        try:
            data = json.loads(await read_capped_body(request) or b"")
        except BodyTooLarge as error:
            return response.json({"ok": False, "error": str(error)}, status=413)
        except (ValueError, RecursionError):
            return response.json({"ok": False, "error": "the body is not JSON"}, status=400)
        if not isinstance(data, dict):
            return response.json({"ok": False, "error": "the body is not a JSON object"}, status=400)
        # Shielded: a dropped connection must not cut a conversation turn in half.
        await asyncio.shield(self._handle(sender, data, on_new_message))
        return response.json({"ok": True})

    async def _handle(
        self, sender: TelegramSender, data: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Answer one update; whatever happens, Telegram gets its 200 (a retry would not help)."""
        update_id = _int(data.get("update_id"))
        try:
            if update_id is None:
                logger.info("telegram: ignored a body without an update_id")
                return
            incoming = read_update(data, sender.bot, sender.buttons)
            if not await first_delivery(CHANNEL, str(update_id)):
                logger.info("telegram: update %s was already processed (a retry)", update_id)
                return
            if incoming is None:
                logger.info("telegram: update %s has nothing to answer", update_id)
                return
            await self._answer(sender, update_id, incoming, on_new_message)
        except Exception as error:
            logger.error("telegram: update %s could not be processed: %s", update_id, failure_summary(error))

    async def _answer(
        self,
        sender: TelegramSender,
        update_id: int,
        incoming: Incoming,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        if incoming.callback_id:
            await sender.answer_callback(incoming.callback_id)
        if incoming.chat_id is None:
            return
        address = str(incoming.chat_id)
        sender_id = sender_id_for(CHANNEL, address)
        await remember_contact(sender_id, CHANNEL, address)
        logger.info("telegram: update %s from chat %s (%s)", update_id, mask(address), sender_id)
        output = TelegramOutput(sender, address)
        if incoming.reply:
            texts = await resident_texts(sender_id, incoming.language)
            await output.send_text_message(sender_id, fixed_reply(incoming.reply, texts))
            return
        text = incoming.text
        if not text and incoming.stand_in:
            text = (await resident_texts(sender_id, incoming.language)).text(incoming.stand_in)
        metadata = dict(incoming.metadata)
        if incoming.language:
            metadata[LANGUAGE_HINT] = incoming.language
        await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata or None))

    async def _media(self, request: Request, file_id: str) -> Optional[HTTPResponse]:
        """A resident's photo, for the city's back office, through a link the bot signed."""
        if self.sender is None:
            return _off_response(self.off_reason or "not configured")
        if not media_signature_ok(CHANNEL, file_id, request.args.get("sig")):
            return media_error(403, "this link is not valid")
        try:
            url = await self.sender.file_download_url(file_id)
        except (TelegramError, TelegramSetupError) as error:
            logger.warning("telegram: getFile failed for a photo: %s", error)
            return media_error(404, "this file is no longer available")
        kind = mimetypes.guess_type(urlsplit(url).path)[0]
        return await stream_remote(request, url, content_type=kind)


# --- webhook registration (command line) -------------------------------------------


def webhook_url(public_url: str) -> str:
    return f"{public_url.rstrip('/')}/webhooks/{CHANNEL}/webhook"


async def set_webhook(public_url: str) -> None:
    """Tell Telegram to post this bot's updates to the assistant, with the secret it must echo."""
    settings = TelegramSettings.from_env()
    if settings.webhook_problem:
        raise TelegramSetupError(settings.webhook_problem)
    if not public_url.startswith(("https://", "http://")):
        raise TelegramSetupError("PUBLIC_URL must be the assistant's public https:// address")
    async with TelegramSender(settings).bot as bot:
        await bot.set_webhook(
            url=webhook_url(public_url), secret_token=settings.secret, allowed_updates=ALLOWED_UPDATES
        )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.channels.telegram", description="Telegram channel set-up")
    commands = parser.add_subparsers(dest="command", required=True)
    hook = commands.add_parser(
        "set-webhook", help="register the webhook (PUBLIC_URL, TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN)"
    )
    hook.add_argument("--public-url", default=settings().public_url, help="default: $PUBLIC_URL")
    args = parser.parse_args(argv)
    if not args.public_url:
        print("Set PUBLIC_URL (or --public-url) to the assistant's public https:// address.", file=sys.stderr)
        return 2
    try:
        asyncio.run(set_webhook(args.public_url))
    except (TelegramSetupError, TelegramError) as error:
        print(f"The Telegram webhook was not set: {error}", file=sys.stderr)
        return 1
    print(f"Telegram now posts updates to {webhook_url(args.public_url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
