"""Read the resident's reply to the summary: send it, fix a field, or ask what to fix.

"no, it's 12 Elm Street", "the size is wrong", "change my email" and "yes" all
arrive at the same question; this turns each into slot changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from bot.open311.models import ServiceDefinition
from bot.reports.answers import find_address, normalise
from bot.reports.draft import ReportDraft
from bot.reports.questions import askable_attributes, find_choice_in_sentence

_YES = {
    "yes",
    "y",
    "yep",
    "yeah",
    "yup",
    "sure",
    "ok",
    "okay",
    "correct",
    "thats right",
    "thats correct",
    "looks good",
    "send",
    "send it",
    "yes send it",
    "yes please",
    "submit",
    "submit it",
    "go ahead",
    "confirm",
    "all good",
    "perfect",
    "right",
    "yes thats right",
    "file it",
    "do it",
}
_NO = {"no", "n", "nope", "nah", "not quite", "wrong", "change", "change something", "edit", "fix"}
_FIELD_WORDS = {
    "location": ("address", "location", "street", "where", "place", "intersection", "corner"),
    "description": ("description", "describe", "details", "detail", "text"),
    "contact": ("contact", "email", "e mail", "phone", "number", "name", "anonymous"),
    "media_url": ("photo", "picture", "image", "pic"),
    "service_code": ("service", "category", "type of problem", "wrong problem", "different problem"),
}


@dataclass
class ConfirmationReply:
    """What the reply to the summary means.

    `kind` is "confirm" (file it), "correct" (slots changed, show the summary
    again or ask the cleared fields), "ask_what" (they said no: ask which field),
    or "unclear".
    """

    kind: str
    slots: Dict[str, Any] = field(default_factory=dict)


def _mentions(said: str, words: tuple) -> bool:
    padded = f" {said} "
    return any(f" {w} " in padded for w in words)


def _attribute_words(code: str) -> tuple:
    """How a resident names an attribute: its code in words ("bin type")."""
    words = normalise(code.replace("_", " "))
    return (words,) if words else ()


def change_buttons(definition: ServiceDefinition) -> List[Dict[str, str]]:
    """Buttons offering each field of the report for correction."""
    buttons = [
        {"title": "Location", "payload": "change the location"},
        {"title": "Description", "payload": "change the description"},
    ]
    for attribute in askable_attributes(definition):
        label = attribute.code.replace("_", " ")
        buttons.append({"title": label.capitalize(), "payload": f"change the {label}"})
    buttons.append({"title": "Contact details", "payload": "change the contact details"})
    buttons.append({"title": "Send it as it is", "payload": "yes, send it"})
    return buttons


def read_confirmation(
    text: str, intent: Optional[str], draft: ReportDraft, definition: ServiceDefinition
) -> ConfirmationReply:
    """Interpret a reply to the summary."""
    said = normalise(text)
    address = find_address(text)
    if address:
        return ConfirmationReply("correct", {"location": address, "latitude": None, "longitude": None})
    attributes = askable_attributes(definition)
    choice = find_choice_in_sentence(attributes, text) if said not in _YES | _NO else None
    if choice is not None:
        attribute, key = choice
        if draft.attributes.get(attribute.code) != key:
            updated = dict(draft.attributes)
            updated[attribute.code] = key
            return ConfirmationReply("correct", {"attributes": updated})
    cleared: Dict[str, Any] = {}
    for slot, words in _FIELD_WORDS.items():
        if _mentions(said, words):
            cleared[slot] = None
    for attribute in attributes:
        if _mentions(said, _attribute_words(attribute.code)):
            updated = dict(cleared.get("attributes") or draft.attributes)
            updated.pop(attribute.code, None)
            cleared["attributes"] = updated
    if "service_code" in cleared:
        cleared["attributes"] = {}
    if "location" in cleared:
        cleared.update({"latitude": None, "longitude": None})
    if cleared:
        return ConfirmationReply("correct", cleared)
    if said in _YES or (intent == "affirm" and said not in _NO):
        return ConfirmationReply("confirm")
    if said in _NO or intent == "deny":
        return ConfirmationReply("ask_what")
    return ConfirmationReply("unclear")
