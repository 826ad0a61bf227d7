"""The notices staff actions send residents: in the resident's language, naming the city of the city file."""

from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest

from bot.channels import outbound
from bot.db.contacts import remember_contact
from bot.db.engine import reset_database
from bot.handoff.service import CLOSED, HANDED_BACK, JOINED, notice, send_to_resident
from bot.i18n.store import remember_language
from tests.support.bilingual_city import use_bilingual_city
from tests.support.city import use_city


def test_the_notices_name_riverton_by_default(city: None) -> None:
    assert "the Riverton 311 assistant" in notice(HANDED_BACK, "en")
    assert notice(CLOSED, "en").endswith("Thank you for contacting the City of Riverton.")
    assert notice(JOINED, "en") == "A member of city staff has joined the conversation and will reply here."


def test_another_city_file_renames_the_notices(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_city(monkeypatch, tmp_path, "Town of Lakeside", "211", "Lakeside 211", "#1a5e20")
    assert "the Lakeside 211 assistant" in notice(HANDED_BACK, "en")
    assert notice(CLOSED, "en").endswith("Thank you for contacting the Town of Lakeside.")
    assert "Riverton" not in notice(HANDED_BACK, "en") + notice(CLOSED, "en")


def test_a_spanish_reader_gets_the_notices_in_spanish_with_the_citys_spanish_names(
    city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_bilingual_city(monkeypatch, tmp_path)
    assert notice(JOINED, "es") == "Un miembro del personal municipal se unió a la conversación y le contestará aquí."
    assert notice(HANDED_BACK, "es").startswith("El personal municipal le pasó de nuevo al asistente Ejemplo 311.")
    assert notice(CLOSED, "es") == (
        "El personal municipal cerró esta conversación. Gracias por comunicarse con la Ciudad de Example."
    )
    assert notice(CLOSED, "en").endswith("Thank you for contacting the City of Example.")


class RecordingSender:
    """An SMS sender that keeps what it was asked to send."""

    channel = "sms"

    def __init__(self) -> None:
        self.sent: List[Tuple[str, str]] = []

    async def send(self, address: str, text: str, buttons: Any = None) -> None:
        self.sent.append((address, text))


@pytest.fixture
def sms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingSender]:
    """A fresh database and a recording SMS sender."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    sender = RecordingSender()
    monkeypatch.setattr(outbound, "_senders", {})
    outbound.register_sender(sender)
    yield sender
    reset_database()


async def test_staff_replies_are_marked_in_the_residents_language_and_sent_as_written(sms: RecordingSender) -> None:
    await remember_contact("sms-es", "sms", "+15550001111")
    await remember_language("sms-es", "es")
    await remember_contact("sms-en", "sms", "+15550002222")
    await send_to_resident("sms-es", "Hello {name}, a truck comes tomorrow.", from_staff=True)
    await send_to_resident("sms-en", "Mañana pasa el camión.", from_staff=True)
    await send_to_resident("sms-es", notice(JOINED, "es"), from_staff=False)
    assert sms.sent == [
        ("+15550001111", "Personal municipal: Hello {name}, a truck comes tomorrow."),
        ("+15550002222", "City staff: Mañana pasa el camión."),
        ("+15550001111", "Un miembro del personal municipal se unió a la conversación y le contestará aquí."),
    ]
