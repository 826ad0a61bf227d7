"""Messages the city sends first: status updates, staff replies, crisis alerts.

Each channel registers a sender that can reach a resident outside a webhook
reply. Callers name the conversation (sender id); the contacts table says which
channel and address that is, and whether the resident opted out.
"""

from __future__ import annotations

import importlib
import logging
from typing import Dict, Iterable, List, Optional, Protocol, runtime_checkable

from sqlalchemy.engine import Connection

from bot.db.contacts import contact_for

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
