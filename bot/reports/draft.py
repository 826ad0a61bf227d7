"""A report in progress, built from the conversation's slots.

Keeps the mapping between what the dialogue collected and what Open311 receives
in one place: the summary the resident confirms is made from the same object
that is filed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from bot.i18n.city import service_text
from bot.i18n.messages import Messages
from bot.open311.models import ServiceDefinition
from bot.reports.answers import ContactDetails, is_skip, parse_contact
from bot.reports.questions import Wording, askable_attributes, describe_value

# The `contact` slot's value for a resident who stays anonymous (never shown: the summary says it in their language).
ANONYMOUS = "anonymous"

# The slots that hold a report; cleared together when a report ends.
REPORT_SLOTS = (
    "service_code",
    "attribute_value",
    "attributes",
    "location",
    "latitude",
    "longitude",
    "description",
    "media_url",
    "contact",
    "confirm",
    "duplicate_of",
    "duplicate_choice",
)


@dataclass
class ReportDraft:
    """Everything needed to file one service request."""

    service_code: str
    service_name: str
    attributes: Dict[str, Any] = field(default_factory=dict)
    location: Optional[str] = None
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    description: Optional[str] = None
    contact_text: Optional[str] = None
    media_url: Optional[str] = None
    # The resident's language (the `language` slot): recorded with the request, never used to translate it.
    language: Optional[str] = None

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any], service_name: str) -> "ReportDraft":
        """Build a draft from a tracker's slot values (`service_name`: the back office's name)."""
        return cls(
            service_code=slots.get("service_code") or "",
            service_name=service_name,
            attributes=dict(slots.get("attributes") or {}),
            location=slots.get("location"),
            latitude=slots.get("latitude"),
            longitude=slots.get("longitude"),
            description=slots.get("description"),
            contact_text=slots.get("contact"),
            media_url=slots.get("media_url"),
            language=slots.get("language"),
        )

    @property
    def contact(self) -> ContactDetails:
        """Contact details, empty when the resident chose to stay anonymous."""
        if not self.contact_text or self.contact_text == ANONYMOUS or is_skip(self.contact_text):
            return ContactDetails()
        return parse_contact(self.contact_text)

    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def location_text(self, texts: Messages) -> str:
        """Where the problem is, as the resident will read it back."""
        if self.location:
            return self.location
        if self.has_coordinates():
            return texts.text(
                "reports.summary.shared_location", latitude=f"{self.latitude:.5f}", longitude=f"{self.longitude:.5f}"
            )
        return texts.text("reports.summary.no_location")

    def filled_attributes(self) -> Dict[str, Any]:
        """Answered attributes, without the skipped ones."""
        return {code: value for code, value in self.attributes.items() if value not in (None, "")}

    def summary_lines(self, definition: ServiceDefinition, texts: Messages) -> List[str]:
        """One line per field, in the order the questions were asked, in the resident's language."""
        wording = Wording(texts, self.service_code)
        shown_name = service_text(texts.language, self.service_code, "name", self.service_name)
        lines = [texts.text("reports.summary.service", service=shown_name)]
        for attribute in askable_attributes(definition):
            if attribute.code in self.attributes:
                value = self.attributes[attribute.code]
                shown = (
                    describe_value(attribute, value, wording)
                    if value not in (None, "")
                    else texts.text("reports.summary.skipped")
                )
                question = wording.question(attribute).strip("¿?")
                lines.append(texts.text("reports.summary.answer", question=question, answer=shown))
        lines.append(texts.text("reports.summary.location", location=self.location_text(texts)))
        description = self.description or texts.text("reports.summary.no_description")
        lines.append(texts.text("reports.summary.description", description=description))
        if self.media_url:
            lines.append(texts.text("reports.summary.photo"))
        contact = self.contact.describe() or texts.text("reports.summary.anonymous")
        lines.append(texts.text("reports.summary.contact", contact=contact))
        return lines

    def summary(self, definition: ServiceDefinition, texts: Messages) -> str:
        """The read-back the resident confirms before anything is filed."""
        body = "\n".join(f"- {line}" for line in self.summary_lines(definition, texts))
        return texts.text("reports.summary", lines=body)

    def open311_fields(self) -> Dict[str, Any]:
        """Keyword arguments for `Open311Client.create_request`."""
        fields: Dict[str, Any] = {
            "attributes": self.filled_attributes(),
            "description": self.description,
            "media_url": self.media_url,
        }
        if self.has_coordinates():
            fields["lat"] = self.latitude
            fields["long"] = self.longitude
        if self.location:
            fields["address_string"] = self.location
        fields.update(self.contact.as_open311())
        return fields
