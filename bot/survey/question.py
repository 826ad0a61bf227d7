"""What the survey asks, in the resident's language, and what its buttons send.

Asked after a report is filed (actions/report_form.py) and after staff resolve
a handoff (bot/handoff/service.py). The buttons send `/rate_service{"score": N}`;
on SMS and WhatsApp they become numbered choices, so a bare "4" is that payload
(bot/channels/sms_choices.py). These payloads are built in code, never in a
domain response, so Rasa does not fill `{...}` in them as slot placeholders.
Elsewhere residents type the score ("4", "I'd give it a 5"): `typed_score` reads
a message that is nothing but a score, in the words of
`bot/i18n/locales/<lang>/words/survey.yml`.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Mapping, Optional, Pattern, Sequence, Tuple

from bot.i18n.languages import city_languages
from bot.i18n.messages import messages
from bot.i18n.words import word_list, word_map
from bot.reports.vocabulary import fold

SCORES = (1, 2, 3, 4, 5)
RATE_INTENT = "rate_service"
SCORE_ENTITY = "score"
SKIP_PAYLOAD = "/deny"  # the comment's "Skip" button: a "no" to "Anything to add?"
_DIGIT_SCORE = re.compile(r"(?<!\d)([1-5])(?!\d)")
WORDS = "survey"  # bot/i18n/locales/<lang>/words/survey.yml
_REPLY_TOKEN = re.compile(r"[a-z0-9]+|/")

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
    """The score 1-5 a message the NLU took for a score gives: the button's entity, else a typed score
    ("five stars" -> 5), else the first digit 1-5 in it ("5/5 great service" -> 5)."""
    for entity in entities:
        if entity.get("entity") == SCORE_ENTITY:
            try:
                value = int(str(entity.get("value")).strip())
            except ValueError:
                return None
            return value if value in SCORES else None
    typed = typed_score(text)
    if typed is not None:
        return typed
    digits = _DIGIT_SCORE.findall(text)
    return int(digits[0]) if digits else None


def typed_score(text: str) -> Optional[int]:
    """The score of a message that is a score and nothing else ("4", "4/5", "5 stars", "le doy un 5"), else None."""
    pattern, scores = _reply_pattern(city_languages())
    match = pattern.fullmatch(_plain(text))
    return scores[match.group("score")] if match else None


def _plain(text: str) -> str:
    """Lower-case words, numbers and slashes, single-spaced, accents and apostrophes dropped ("I'd" -> "id")."""
    return " ".join(_REPLY_TOKEN.findall(fold(text).replace("'", "").replace("’", "")))


def _either(phrases: Iterable[str]) -> str:
    """A regex group matching any of the (plain) phrases, the longest first."""
    plain = {_plain(phrase) for phrase in phrases} - {""}
    return "(?:" + "|".join(re.escape(p) for p in sorted(plain, key=lambda p: (-len(p), p))) + ")"


@lru_cache(maxsize=4)
def _reply_pattern(languages: Tuple[str, ...]) -> Tuple[Pattern[str], Dict[str, int]]:
    """The whole-message pattern of a typed score in `languages`' words, and the score of each way to say one."""
    scores = {str(score): score for score in SCORES}
    for score, words in word_map(WORDS, "scores").items():
        if int(score) in SCORES:
            scores.update({_plain(word): int(score) for word in words})
    tops = [said for said, score in scores.items() if score == max(SCORES)]
    pattern = (
        rf"(?:{_either(word_list(WORDS, 'openings'))} )?(?:{_either(word_list(WORDS, 'articles'))} )?"
        rf"(?P<score>{_either(scores)})"
        rf"(?: {_either(word_list(WORDS, 'out_of'))} {_either(tops)})?(?: {_either(word_list(WORDS, 'stars'))})?"
    )
    return re.compile(pattern), scores
