"""Messages the city sends first: status updates, staff replies, crisis alerts.

Each channel registers a sender that can reach a resident outside a webhook
reply. Callers name the conversation (sender id); the contacts table says which
channel and address that is, and whether the resident opted out. A report's
updates that Meta's 24-hour window keeps off Messenger or Instagram go by text
message to the phone the resident gave, if they gave one (`deliver_update`).
"""

from __future__ import annotations

import importlib
import logging
from typing import Dict, Iterable, List, Optional, Protocol, runtime_checkable

from sqlalchemy.engine import Connection

from bot.channels.identity import mask, sender_id_for
from bot.db.contacts import contact_for
from bot.db.fallbacks import fallback_for

logger = logging.getLogger(__name__)

Buttons = Optional[List[Dict[str, str]]]


class OutboundSender(Protocol):
    """Sends one message to an address on one channel; raises on failure."""

    channel: str

    async def send(self, address: str, text: str, buttons: Buttons = None) -> None: ...


@runtime_checkable
class TransactionalSender(Protocol):
    """A channel whose messages are rows of this database (the web chat).

    `write_in` writes them in the caller's transaction, so a broadcast can mark
    them sent in the same commit: exactly once, whatever happens.
    """

    channel: str

    def write_in(self, connection: Connection, sender_ids: List[str], text: str) -> None: ...


_senders: Dict[str, OutboundSender] = {}


CHANNEL_MODULES = ("bot.channels.telegram", "bot.channels.twilio", "bot.channels.messenger_api", "bot.channels.webchat")


def register_sender(sender: OutboundSender, channels: Optional[Iterable[str]] = None) -> None:
    """Make a channel reachable for outbound messages (called by the channel at start-up).

    One sender may serve several channels (Twilio sends both SMS and WhatsApp).
    """
    for channel in channels or getattr(sender, "channels", None) or [sender.channel]:
        _senders[channel] = sender


def load_senders_from_env() -> List[str]:
    """Register every configured channel's sender in a process that serves no webhook (the worker)."""
    for module_name in CHANNEL_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        factory = getattr(module, "sender_from_env", None)
        sender = factory() if factory else None
        if sender is not None:
            register_sender(sender)
    return sorted(_senders)


async def close_senders() -> None:
    """Close the registered senders' connections (at shutdown; senders without any are skipped)."""
    for sender in {id(sender): sender for sender in _senders.values()}.values():
        close = getattr(sender, "aclose", None)
        if close is not None:
            await close()


def sender_for(channel: str) -> Optional[OutboundSender]:
    return _senders.get(channel)


class NotDeliverable(Exception):
    """The resident cannot be reached: unknown conversation, opted out, or channel off."""


class OutsideWindow(NotDeliverable):
    """The channel lets the city write only for a while after the resident's last message, and that has passed."""


async def deliver(sender_id: str, text: str, buttons: Buttons = None) -> None:
    """Send a message to the resident of a conversation on their own channel."""
    contact = await contact_for(sender_id)
    if contact is None:
        raise NotDeliverable(f"no contact for conversation {sender_id}")
    if contact.opted_out:
        raise NotDeliverable(f"conversation {sender_id} opted out")
    sender = sender_for(contact.channel)
    if sender is None:
        raise NotDeliverable(f"channel {contact.channel} is not configured")
    await sender.send(contact.address, text, buttons)


async def deliver_update(sender_id: str, text: str) -> None:
    """A report's status update or outcome: on the resident's channel, else by text to the phone they gave."""
    try:
        await deliver(sender_id, text)
    except OutsideWindow as closed:
        await deliver_to_fallback(sender_id, text, closed)


async def deliver_to_fallback(sender_id: str, text: str, closed: OutsideWindow) -> None:
    """Send to the conversation's fallback number (bot/db/fallbacks.py) since its own channel's window closed.

    NotDeliverable, saying why, when the resident gave no number, the number's
    own conversation opted out (STOP), or its channel is not configured.
    """
    fallback = await fallback_for(sender_id)
    if fallback is None:
        raise closed
    contact = await contact_for(sender_id_for(fallback.channel, fallback.address))
    if contact is not None and contact.opted_out:
        raise NotDeliverable(f"{closed}; its {fallback.channel} fallback opted out") from closed
    sender = sender_for(fallback.channel)
    if sender is None:
        raise NotDeliverable(f"{closed}; its fallback channel {fallback.channel} is not configured") from closed
    await sender.send(fallback.address, text)
    logger.info(
        "conversation %s is past its window: sent by %s to %s", sender_id, fallback.channel, mask(fallback.address)
    )
