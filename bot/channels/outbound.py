"""Messages the city sends first: status updates, staff replies, crisis alerts.

Each channel registers a sender that can reach a resident outside a webhook
reply. Callers name the conversation (sender id); the contacts table says which
channel and address that is, and whether the resident opted out.
"""
from __future__ import annotations

import logging
from typing import Dict, List, Optional, Protocol

from bot.storage import contact_for

logger = logging.getLogger(__name__)

Buttons = Optional[List[Dict[str, str]]]


class OutboundSender(Protocol):
    """Sends one message to an address on one channel; raises on failure."""

    channel: str

    async def send(self, address: str, text: str, buttons: Buttons = None) -> None:
        ...


_senders: Dict[str, OutboundSender] = {}


def register_sender(sender: OutboundSender) -> None:
    """Make a channel reachable for outbound messages (called by the channel at start-up)."""
    _senders[sender.channel] = sender


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
