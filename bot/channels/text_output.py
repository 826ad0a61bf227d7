"""An output channel whose texts, with or without buttons, take one way out: its own `deliver_text`.

Twilio and Messenger each send a text and a text with buttons the same way
(their channel turns the buttons into numbered choices or quick replies); only
how they reach the resident, and what a failure means to them, differ.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel


class TextOutputChannel(OutputChannel):
    """Rasa's `send_text_message` and `send_text_with_buttons`, both through `deliver_text`."""

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.deliver_text(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.deliver_text(recipient_id, text, buttons)

    async def deliver_text(self, recipient_id: str, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        """Send one message to the conversation's resident, or log why not (a turn must not break on it)."""
        raise NotImplementedError  # each channel's own
