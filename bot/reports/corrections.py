"""Read the resident's reply to the summary: send it, fix a field, or ask what to fix.

"no, it's 12 Elm Street", "the size is wrong", "change my email" and "yes" all
arrive at the same question; this turns each into slot changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from bot.i18n.city import attribute_name
from bot.i18n.languages import city_languages
from bot.open311.models import ServiceDefinition
from bot.reports.answers import find_address
from bot.reports.draft import ReportDraft
from bot.reports.questions import Wording, askable_attributes, find_choice_in_sentence
from bot.reports.vocabulary import contains_phrase, normalise, vocabulary

# Button payloads the summary's buttons send. They are intents, not sentences:
# read the same whatever the resident's language, and too short to switch it.
SEND_PAYLOAD = "/affirm"
CHANGE_PAYLOAD = "/deny"
CANCEL_PAYLOAD = "/cancel"
# The report's own parts a resident can change, by slot (the fields of
# words/reports.yml name them in every language).
CHANGEABLE = ("location", "description")


@dataclass
class ConfirmationReply:
    """What the reply to the summary means.

    `kind` is "confirm" (file it), "correct" (slots changed, show the summary
    again or ask the cleared fields), "ask_what" (they said no: ask which field),
    or "unclear".
    """

    kind: str
    slots: Dict[str, Any] = field(default_factory=dict)


def _mentions(said: str, words: Tuple[str, ...]) -> bool:
    return any(contains_phrase(said, word) for word in words)


def _attribute_words(service_code: str, code: str) -> Tuple[str, ...]:
    """How a resident names an attribute: its code in words ("bin type"), or its name in a city language ("tamaño")."""
    names = [code.replace("_", " ")]
    names += [attribute_name(language, service_code, code) or "" for language in city_languages()]
    return tuple(dict.fromkeys(said for said in (normalise(name) for name in names) if said))


def change_buttons(definition: ServiceDefinition, wording: Wording) -> List[Dict[str, str]]:
    """Buttons offering each field of the report for correction.

    Titles are in the resident's language; each payload is the field's own name
    (a slot or the back office's attribute code), which `read_confirmation`
    reads in any language and which is too short to switch the resident's.
    """
    texts = wording.texts
    buttons = [{"title": texts.text(f"reports.change.{slot}"), "payload": slot} for slot in CHANGEABLE]
    for attribute in askable_attributes(definition):
        buttons.append({"title": wording.label(attribute), "payload": attribute.code.replace("_", " ")})
    buttons.append({"title": texts.text("reports.change.contact"), "payload": "contact"})
    buttons.append({"title": texts.text("reports.change.send"), "payload": SEND_PAYLOAD})
    return buttons


def confirm_buttons(wording: Wording) -> List[Dict[str, str]]:
    """The summary's buttons: send it, change something, cancel."""
    texts = wording.texts
    return [
        {"title": texts.text("reports.confirm.send"), "payload": SEND_PAYLOAD},
        {"title": texts.text("reports.confirm.change"), "payload": CHANGE_PAYLOAD},
        {"title": texts.text("reports.confirm.cancel"), "payload": CANCEL_PAYLOAD},
    ]


def read_confirmation(
    text: str, intent: Optional[str], draft: ReportDraft, definition: ServiceDefinition, wording: Wording
) -> ConfirmationReply:
    """Interpret a reply to the summary, in any of the city's languages ("yes", "sí", "cambiar la dirección")."""
    said = normalise(text)
    words = vocabulary()
    address = find_address(text)
    if address:
        return ConfirmationReply("correct", {"location": address, "latitude": None, "longitude": None})
    attributes = askable_attributes(definition)
    plain = said in words.confirm_yes or said in words.confirm_no
    choice = None if plain else find_choice_in_sentence(attributes, text, wording)
    if choice is not None:
        attribute, key = choice
        if draft.attributes.get(attribute.code) != key:
            updated = dict(draft.attributes)
            updated[attribute.code] = key
            return ConfirmationReply("correct", {"attributes": updated})
    cleared: Dict[str, Any] = {}
    for slot, names in words.fields.items():
        if _mentions(said, names):
            cleared[slot] = None
    for attribute in attributes:
        if _mentions(said, _attribute_words(definition.service_code, attribute.code)):
            updated = dict(cleared.get("attributes") or draft.attributes)
            updated.pop(attribute.code, None)
            cleared["attributes"] = updated
    if "service_code" in cleared:
        cleared["attributes"] = {}
    if "location" in cleared:
        cleared.update({"latitude": None, "longitude": None})
    if cleared:
        return ConfirmationReply("correct", cleared)
    if said in words.confirm_yes or (intent == "affirm" and said not in words.confirm_no):
        return ConfirmationReply("confirm")
    if said in words.confirm_no or intent == "deny":
        return ConfirmationReply("ask_what")
    return ConfirmationReply("unclear")
