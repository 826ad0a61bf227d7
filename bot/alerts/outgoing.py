"""What an alert sends: each city language's exact message, how many read it, and who falls back.

The CLI prints it before a draft is written, approved or sent, and the console
shows it on an alert's page, so the author, the approver and the residents see
the same words. A language staff gave no text in gets the default language's
text, framed in that language (`Copy.falls_back`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Tuple

from bot.alerts import store
from bot.alerts.segments import sms_segments
from bot.alerts.store import Alert, AlertContent, Preview
from bot.db.engine import utcnow
from bot.i18n.languages import city_languages, default_language


@dataclass(frozen=True)
class Copy:
    """The alert as the readers of one language get it."""

    language: str
    message: str
    has_text: bool  # staff wrote it in this language (the default language always has one)
    readers: int  # recipients who read this language, as things stand now

    @property
    def falls_back(self) -> bool:
        """No staff text in this language: its readers get the default language's words."""
        return not self.has_text

    @property
    def sms_segments(self) -> int:
        return sms_segments(self.message)


@dataclass(frozen=True)
class Outgoing:
    """An alert, who it reaches now (per channel and language) and each language's copy, the default first."""

    alert: Alert
    preview: Preview
    copies: Tuple[Copy, ...]

    @property
    def falling_back(self) -> Dict[str, int]:
        """Readers of each language the alert has no text in."""
        return self.preview.falling_back(self.alert.translations)

    def message_in(self) -> Dict[str, str]:
        return {copy.language: copy.message for copy in self.copies}


def sketch(content: AlertContent) -> Alert:
    """An alert not written yet, to show what it would send (AlertError for content that cannot be)."""
    checked = content.checked()
    translations = {code: text for code, text in checked.translations.items() if text}
    return Alert(
        0,
        checked.topic,
        checked.zone,
        checked.severity,
        checked.text,
        None,
        utcnow(),
        store.DRAFT,
        faq_url=checked.faq_url,
        translations=translations,
        publish_to_page=checked.publish_to_page,
    )


def copies_of(alert: Alert, readers: Mapping[str, int]) -> Tuple[Copy, ...]:
    """Each city language's copy, the default language's first; `readers`: how many read each language."""
    default = default_language()
    ordered = [default] + [code for code in city_languages() if code != default]
    return tuple(
        Copy(
            language=code,
            message=store.alert_message(alert, code),
            has_text=code == default or bool(alert.translations.get(code)),
            readers=readers.get(code, 0),
        )
        for code in ordered
    )


async def outgoing(alert: Alert) -> Outgoing:
    """What `alert` sends, and to how many, if it were sent now."""
    preview = await store.preview_alert(alert.topic, alert.zone)
    return Outgoing(alert, preview, copies_of(alert, preview.by_language))
