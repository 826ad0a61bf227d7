"""What the survey asks, in the resident's language, and what its buttons send.

Asked after a report is filed (actions/report_form.py) and after staff resolve
a handoff (bot/handoff/service.py). The buttons send `/rate_service{"score": N}`;
on SMS and WhatsApp they become numbered choices, so a bare "4" is that payload
(bot/channels/sms_choices.py). These payloads are built in code, never in a
domain response, so Rasa does not fill `{...}` in them as slot placeholders.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.i18n.messages import messages

SCORES = (1, 2, 3, 4, 5)
RATE_INTENT = "rate_service"
SCORE_ENTITY = "score"
SKIP_PAYLOAD = "/deny"  # the comment's "Skip" button: a "no" to "Anything to add?"
_DIGIT_SCORE = re.compile(r"(?<!\d)([1-5])(?!\d)")

Buttons = List[Dict[str, str]]


def rate_payload(score: int) -> str:
    """The payload of a score's button: the intent with the score as its entity."""
    return f"/{RATE_INTENT}{json.dumps({SCORE_ENTITY: score})}"


def question(language: str) -> Tuple[str, Buttons]:
    """ "How did we do?" and its five buttons, in `language`."""
    texts = messages(language)
    buttons = [{"title": texts.text(f"survey.score_{score}"), "payload": rate_payload(score)} for score in SCORES]
    return texts.text("survey.question"), buttons


def comment_question(language: str) -> Tuple[str, Buttons]:
    """ "Anything to add? Or say skip", with a Skip button, in `language`."""
    texts = messages(language)
    return texts.text("survey.ask_comment"), [{"title": texts.text("survey.skip"), "payload": SKIP_PAYLOAD}]


def score_of(entities: Sequence[Mapping[str, Any]], text: str) -> Optional[int]:
    """The score 1-5 a message gives: the button's entity, else the one digit 1-5 typed ("4 out of 5" -> 4)."""
    for entity in entities:
        if entity.get("entity") == SCORE_ENTITY:
            try:
                value = int(str(entity.get("value")).strip())
            except ValueError:
                return None
            return value if value in SCORES else None
    digits = _DIGIT_SCORE.findall(text)
    return int(digits[0]) if digits else None
