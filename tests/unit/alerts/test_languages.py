"""Alerts in each resident's language: Spanish words and keywords, answers, per-language texts and costs, the CLI."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import pytest
import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.alerts import ActionSubscribeAlerts, ActionUnsubscribeAlerts
from bot.alerts import store
from bot.alerts.delivery.job import run_delivery
from bot.alerts.delivery.settings import DeliverySettings
from bot.alerts.faq import with_language
from bot.alerts.keywords import handle_alert_keyword, parse_alert_keyword
from bot.alerts.limiter import ChannelLimit
from bot.alerts.segments import outside_gsm, sends_per_message, sms_segments
from bot.alerts.store import ALL, AlertError
from bot.alerts.texts import describe
from bot.alerts.words import normalize_topic, normalize_zone, topics_in, zones_in
from bot.db.engine import database, reset_database, utcnow
from bot.db.schema import alert_deliveries as deliveries
from bot.db.schema import alert_translations, webchat_messages
from bot.i18n.messages import messages
from bot.i18n.store import language_for, remember_language
from tests.support.alerts import add_accounts, queued_alert
from tests.support.residents import Resident, add_residents

FAST = DeliverySettings(
    max_attempts=3, retry_base_seconds=0.01, retry_max_seconds=0.05, lease_seconds=5, idle_poll_seconds=0.05
)
UNLIMITED = {"telegram": 0, "sms": 0, "whatsapp": 0, "webchat": 0}
ENGLISH = "Boil water before drinking until Friday."
SPANISH = "Hierva el agua antes de tomarla hasta el viernes."
SPANISH_WITH_ACCENTS = "Hierva el agua de la llave un minuto antes de beberla o cocinar. Más información: línea 311."


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CITYBOT_SECRET_KEY", "alerts-languages-test-key")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


@dataclass
class RecordingSender:
    """Keeps what it was asked to send, per address."""

    channel: str
    sent: List[Tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0
    sent_enough: Optional[Tuple[int, asyncio.Event]] = None  # set the event once this many were sent

    async def send(self, address: str, text: str, buttons: Any = None) -> None:
        self.sent.append((address, text))
        if self.sent_enough is not None and len(self.sent) >= self.sent_enough[0]:
            self.sent_enough[1].set()
        if self.delay:
            await asyncio.sleep(self.delay)

    def received(self) -> Dict[str, List[str]]:
        found: Dict[str, List[str]] = {}
        for address, text in self.sent:
            found.setdefault(address, []).append(text)
        return found


def row_languages(alert_id: int) -> Dict[str, Optional[str]]:
    with database().engine.begin() as connection:
        rows = connection.execute(
            sa.select(deliveries.c.sender_id, deliveries.c.language).where(deliveries.c.alert_id == alert_id)
        ).all()
    return {row.sender_id: row.language for row in rows}


# --- words and keywords ------------------------------------------------------------------


def test_spanish_topics_and_zones_with_and_without_accents():
    assert normalize_topic("Inundación") == "weather" and normalize_topic("inundacion") == "weather"
    assert normalize_topic("tráfico") == "roads" and normalize_topic("cortes de agua") == "water"
    assert normalize_topic("todas las alertas") == ALL and normalize_topic("pizza") is None
    assert normalize_zone("Zona Norte") == "north" and normalize_zone("poniente") == "west"
    assert normalize_zone("toda la ciudad") == ALL
    text = "quiero alertas de inundación y cortes de agua en la zona norte"
    assert topics_in(text) == ["weather", "water"] and zones_in(text) == ["north"]
    # "limpieza de nieve" is roads (the longer phrase), not weather's "nieve".
    assert topics_in("avisos de limpieza de nieve") == ["roads"]
    # Everyday words that name a zone or topic only inside a keyword.
    assert zones_in("quiero alertas de agua para este barrio") == []
    assert topics_in("las alertas llegan a tiempo") == []
    # "todas" in "todas las zonas" is the zone, not all topics.
    assert topics_in("alertas de agua para todas las zonas") == ["water"]
    assert zones_in("alertas de agua para todas las zonas") == [ALL]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ALERTAS SI", ("on", [], [], "es")),
        ("ALERTAS SÍ", ("on", [], [], "es")),
        ("alertas si agua norte", ("on", ["water"], ["north"], "es")),
        ("ALERTAS SI AGUA ESTE", ("on", ["water"], ["east"], "es")),
        ("Alertas sí, tiempo y calles, por favor", ("on", ["weather", "roads"], [], "es")),
        ("ALERTAS SI AGUA TODAS LAS ZONAS", ("on", ["water"], [ALL], "es")),
        ("ALERTAS SI TODAS", ("on", [ALL], [], "es")),
        ("ALERTAS NO", ("off", [], [], "es")),
        ("ALERTAS NO CLIMA", ("off", ["weather"], [], "es")),
        ("ya no quiero alertas", ("off", [], [], "es")),
        ("dar de baja alertas del poniente", ("off", [], ["west"], "es")),
        ("ALERTAS", ("status", [], [], "es")),
        ("ALERTS ON", ("on", [], [], "en")),
        ("alerts off water", ("off", ["water"], [], "en")),
        ("alertas sobre la inundación en mi calle?", None),  # a question for the assistant
        ("AYUDA", None),
    ],
)
def test_spanish_alert_keywords(text, expected):
    command = parse_alert_keyword(text)
    if expected is None:
        assert command is None
    else:
        assert (command.action, command.topics, command.zones, command.language) == expected


async def test_a_keyword_answers_in_its_language_and_remembers_it():
    add_residents([Resident("sms-es", "sms", "+15550003333", pairs=())])
    reply = await handle_alert_keyword("sms-es", "ALERTAS SÍ AGUA NORTE")
    assert "alertas de agua para la zona Norte" in reply and "Responda ALERTAS NO" in reply
    assert await store.subscriptions_of("sms-es") == [("water", "north")]
    assert await language_for("sms-es") == "es"
    reply = await handle_alert_keyword("sms-es", "alertas")  # a subscriber: what they get, nothing widened
    assert reply.startswith("Recibe alertas de agua para la zona Norte.")
    assert await store.subscriptions_of("sms-es") == [("water", "north")]
    reply = await handle_alert_keyword("sms-es", "ALERTAS NO")
    assert "desactivadas" in reply and await store.subscriptions_of("sms-es") == []
    reply = await handle_alert_keyword("sms-es", "ALERTAS NO")
    assert reply.startswith("No estaba recibiendo") and "ALERTAS SÍ AGUA NORTE" in reply
    reply = await handle_alert_keyword("sms-es", "ALERTS ON")
    assert "You'll get emergency alerts from the City of Riverton" in reply
    assert await language_for("sms-es") == "en"


async def test_a_bare_keyword_subscribes_a_resident_who_gets_nothing_yet():
    add_residents([Resident("sms-new", "sms", "+15550004444", pairs=())])
    reply = await handle_alert_keyword("sms-new", "ALERTAS")
    assert await store.subscriptions_of("sms-new") == [(ALL, ALL)]
    assert "todas las alertas en toda la ciudad" in reply


# --- what residents read ---------------------------------------------------------------------


def test_subscriptions_described_in_each_language():
    pairs = [("water", "north"), (ALL, ALL)]
    assert describe(pairs, messages("en")) == "all alerts citywide and water alerts for the North zone"
    assert describe(pairs, messages("es")) == "todas las alertas en toda la ciudad y alertas de agua para la zona Norte"
    three = [("water", "north"), ("roads", "east"), ("weather", ALL)]
    assert describe(three, messages("es")) == (
        "alertas de calles para la zona Este, alertas de agua para la zona Norte y alertas del clima en toda la ciudad"
    )
    assert describe([], messages("es")) == "ninguna alerta"


def test_the_alert_is_framed_in_the_readers_language_and_falls_back_to_the_default_text():
    faq = "https://311.riverton.example/faq/boil_water"
    alert = store.Alert(1, "water", "north", "warning", ENGLISH, None, utcnow(), "queued", faq_url=faq)
    english = store.alert_message(alert, "en")
    assert english == (
        f"City of Riverton WARNING (North zone): {ENGLISH}\nDetails: {faq}?lang=en\nReply ALERTS OFF to stop alerts."
    )
    fallback = store.alert_message(alert, "es")  # no Spanish text: the English words in a Spanish frame
    assert fallback == (
        f"Ciudad de Riverton, AVISO (zona Norte): {ENGLISH}\nDetalles: {faq}?lang=es\n"
        "Responda ALERTAS NO para dejar de recibir alertas."
    )
    translated = store.Alert(
        2, "water", ALL, "emergency", ENGLISH, None, utcnow(), "queued", translations={"es": SPANISH}
    )
    assert store.alert_message(translated, "es").startswith(f"Ciudad de Riverton, EMERGENCIA: {SPANISH}\n")
    assert store.alert_message(translated, "en").startswith(f"City of Riverton EMERGENCY: {ENGLISH}\n")
    assert store.alert_message(translated, "fr") == store.alert_message(translated, "en")  # not a city language


def test_the_faq_link_carries_the_readers_language():
    assert with_language("https://x.example/faq/heat", "es") == "https://x.example/faq/heat?lang=es"
    assert with_language("https://x.example/faq/heat?lang=en&a=1", "es") == "https://x.example/faq/heat?a=1&lang=es"


def spanish_tracker(sender_id: str, text: str, intent: str, entities: Optional[List[Dict[str, Any]]] = None) -> Tracker:
    return Tracker(
        sender_id=sender_id,
        slots={"language": "es"},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.97}, "entities": entities or []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run_action(action: Any, tracker: Tracker) -> str:
    dispatcher = CollectingDispatcher()
    assert await action.run(dispatcher, tracker, {}) == []
    return " ".join(m.get("text") or "" for m in dispatcher.messages)


async def test_subscription_answers_in_spanish():
    add_residents(
        [Resident("tg-es", "telegram", "555100", pairs=()), Resident("sms-es", "sms", "+15550005555", pairs=())]
    )
    water_north = [{"entity": "alert_topic", "value": "agua"}, {"entity": "zone", "value": "zona norte"}]
    reply = await run_action(
        ActionSubscribeAlerts(),
        spanish_tracker("tg-es", "quiero alertas de agua para la zona norte", "subscribe_alerts", water_north),
    )
    assert await store.subscriptions_of("tg-es") == [("water", "north")]
    assert reply.startswith("Listo: recibirá aquí las alertas de emergencia de ")
    assert "alertas de agua para la zona Norte" in reply and 'Diga "no más alertas"' in reply
    reply = await run_action(
        ActionSubscribeAlerts(), spanish_tracker("tg-es", "alertas de agua zona norte", "subscribe_alerts")
    )
    assert reply.startswith("Ya recibe alertas de agua para la zona Norte.")
    reply = await run_action(ActionSubscribeAlerts(), spanish_tracker("sms-es", "mándeme alertas", "subscribe_alerts"))
    assert "todas las alertas en toda la ciudad" in reply and "solo alertas de agua" in reply
    assert "Responda ALERTAS NO" in reply  # SMS wording
    reply = await run_action(
        ActionUnsubscribeAlerts(), spanish_tracker("sms-es", "ya no quiero alertas del clima", "unsubscribe_alerts")
    )
    assert reply.startswith("Listo. Sigue recibiendo ") and "alertas de agua en toda la ciudad" in reply
    reply = await run_action(
        ActionUnsubscribeAlerts(), spanish_tracker("sms-es", "no más alertas", "unsubscribe_alerts")
    )
    assert reply.startswith("Las alertas de emergencia están desactivadas")
    reply = await run_action(
        ActionUnsubscribeAlerts(), spanish_tracker("sms-es", "no más alertas", "unsubscribe_alerts")
    )
    assert reply.startswith("No estaba recibiendo alertas")
    reply = await run_action(ActionSubscribeAlerts(), spanish_tracker("rest-es", "quiero alertas", "subscribe_alerts"))
    assert "no a esta conversación" in reply and "ALERTAS SÍ" in reply
    assert await store.subscriptions_of("rest-es") == []


# --- writing and delivering --------------------------------------------------------------------


def bilingual_town() -> List[Resident]:
    return [
        Resident("tg-en", "telegram", "2001", language="en"),
        Resident("tg-es", "telegram", "2002", language="es"),
        Resident("tg-never", "telegram", "2003"),  # never stored: the default
        Resident("tg-fr", "telegram", "2004", language="fr"),  # not a city language: the default
        Resident("sms-es", "sms", "+15550006666", language="es"),
        Resident("web-es", "webchat", "s-es", language="es"),
        Resident("web-en", "webchat", "s-en", language="en"),
        Resident("sms-stopped-es", "sms", "+15550006667", language="es", opted_out=True),
    ]


async def test_the_preview_counts_readers_per_channel_and_language_and_who_falls_back():
    add_residents(bilingual_town())
    preview = await store.preview_alert("water", ALL)
    assert preview.by_channel == {"sms": 1, "telegram": 4, "webchat": 2} and preview.opted_out == 1
    assert preview.by_channel_language == {
        "sms": {"es": 1},
        "telegram": {"en": 3, "es": 1},
        "webchat": {"en": 1, "es": 1},
    }
    assert preview.by_language == {"en": 4, "es": 3}
    assert preview.falling_back([]) == {"es": 3} and preview.falling_back(["es"]) == {}
    assert json.loads(json.dumps(preview.as_dict()))["by_language"] == {"en": 4, "es": 3}


async def test_each_reader_gets_the_alert_in_their_language_once():
    add_residents(bilingual_town())
    alert = await queued_alert("water", ALL, "advisory", ENGLISH, translations={"es": SPANISH})
    assert alert.translations == {"es": SPANISH}
    assert row_languages(alert.id) == {
        "tg-en": "en",
        "tg-es": "es",
        "tg-never": "en",
        "tg-fr": "en",
        "sms-es": "es",
        "web-es": "es",
        "web-en": "en",
    }
    telegram, sms = RecordingSender("telegram"), RecordingSender("sms")
    status = await run_delivery(alert.id, senders={"telegram": telegram, "sms": sms}, rates=UNLIMITED, settings=FAST)
    assert (status.sent, status.pending) == (7, 0) and status.by_language == {"en": 4, "es": 3}
    english, spanish = store.alert_message(alert, "en"), store.alert_message(alert, "es")
    assert telegram.received() == {"2001": [english], "2002": [spanish], "2003": [english], "2004": [english]}
    assert sms.received() == {"+15550006666": [spanish]}
    with database().engine.begin() as connection:
        web = connection.execute(sa.select(webchat_messages.c.sender_id, webchat_messages.c.payload)).all()
    assert sorted((row.sender_id, json.loads(row.payload)["text"]) for row in web) == [
        ("web-en", english),
        ("web-es", spanish),
    ]


async def test_without_a_spanish_text_spanish_readers_get_the_english_one_in_a_spanish_frame():
    add_residents([Resident("tg-es", "telegram", "3001", language="es")])
    alert = await queued_alert(ALL, "south", "emergency", "Shelter in place now.")
    telegram = RecordingSender("telegram")
    await run_delivery(alert.id, senders={"telegram": telegram}, rates=UNLIMITED, settings=FAST)
    assert telegram.sent == [
        (
            "3001",
            "Ciudad de Riverton, EMERGENCIA (zona Sur): Shelter in place now.\n"
            "Responda ALERTAS NO para dejar de recibir alertas.",
        )
    ]


async def test_the_language_is_fixed_when_the_alert_is_written_even_across_a_stop_and_a_resume():
    residents = [Resident(f"tg-{i}", "telegram", f"40{i:02d}", language="es" if i % 2 else "en") for i in range(20)]
    add_residents(residents)
    alert = await queued_alert("weather", ALL, "warning", "Storm tonight.", translations={"es": "Tormenta esta noche."})
    for resident in residents:  # everyone switches language while the alert is on its way
        await remember_language(resident.sender_id, "en" if resident.language == "es" else "es")
    some_sent = asyncio.Event()
    telegram = RecordingSender("telegram", delay=0.02, sent_enough=(5, some_sent))
    stop = asyncio.Event()
    job = asyncio.ensure_future(
        run_delivery(
            alert.id,
            senders={"telegram": telegram},
            rates=UNLIMITED,
            settings=DeliverySettings(concurrency=2, lease_seconds=5),
            stop=stop,
        )
    )
    await some_sent.wait()
    stop.set()
    first = await job
    assert 0 < first.sent < 20 and first.pending == 20 - first.sent
    final = await run_delivery(alert.id, senders={"telegram": telegram}, rates=UNLIMITED, settings=FAST)
    assert final.sent == 20
    received = telegram.received()
    assert sorted(received) == sorted(r.address for r in residents)
    for resident in residents:
        (message,) = received[resident.address]  # once
        assert message == store.alert_message(alert, resident.language)  # the language of when it was written


async def test_rows_written_before_languages_existed_are_sent_in_the_default_language():
    add_residents([Resident("tg-es", "telegram", "5001", language="es")])
    alert = await queued_alert("water", ALL, "advisory", ENGLISH, translations={"es": SPANISH})
    with database().engine.begin() as connection:
        connection.execute(deliveries.update().values(language=None))
    telegram = RecordingSender("telegram")
    await run_delivery(alert.id, senders={"telegram": telegram}, rates=UNLIMITED, settings=FAST)
    assert telegram.sent == [("5001", store.alert_message(alert, "en"))]


class CountingLimiter:
    def __init__(self) -> None:
        self.tokens = 0

    async def acquire(self, amount: float = 1) -> None:
        self.tokens += 1


async def test_each_sms_spends_the_segments_of_its_own_language(monkeypatch):
    add_residents(
        [Resident(f"sms-en-{i}", "sms", f"+1555007000{i}", language="en") for i in range(2)]
        + [Resident(f"sms-es-{i}", "sms", f"+1555008000{i}", language="es") for i in range(3)]
    )
    alert = await queued_alert(ALL, ALL, "warning", ENGLISH, translations={"es": SPANISH_WITH_ACCENTS})
    english, spanish = (sends_per_message("sms", store.alert_message(alert, code)) for code in ("en", "es"))
    assert (english, spanish) == (1, 3)  # the Spanish SMS is UCS-2 ("á", "ó", "í")
    limit = ChannelLimit(100.0, CountingLimiter(), CountingLimiter())
    monkeypatch.setattr("bot.alerts.delivery.lanes.limit_for", lambda channel, rate: limit)
    status = await run_delivery(alert.id, senders={"sms": RecordingSender("sms")}, settings=FAST)
    assert status.sent == 5
    assert limit.claim.tokens == limit.send.tokens == 2 * english + 3 * spanish


def test_what_makes_a_spanish_sms_ucs2():
    assert outside_gsm("Aviso: ¿tiene agua? ¡Hierva el agua! Año, pequeño, café") == ""  # é, ñ, ¿, ¡ are GSM
    assert outside_gsm("Más información en la línea 311") == "áóí"
    assert sms_segments("é" * 160) == 1 and sms_segments("á" * 71) == 2


async def test_translations_are_checked_and_stored():
    with pytest.raises(AlertError):
        await queued_alert("water", "north", "warning", ENGLISH, translations={"fr": "Bouillez l'eau."})
    with pytest.raises(AlertError):
        await queued_alert("water", "north", "warning", ENGLISH, translations={"en": ENGLISH})
    with pytest.raises(AlertError):
        await queued_alert("water", "north", "warning", ENGLISH, translations={"es": "   "})
    assert await store.list_alerts() == []
    alert = await queued_alert("water", "north", "warning", ENGLISH, translations={"es": f"  {SPANISH} "})
    with database().engine.begin() as connection:
        rows = connection.execute(sa.select(alert_translations)).all()
    assert [(row.alert_id, row.language, row.text) for row in rows] == [(alert.id, "es", SPANISH)]
    assert (await store.get_alert(alert.id)).translations == {"es": SPANISH}
    assert (await store.list_alerts())[0].translations == {"es": SPANISH}


# --- the CLI --------------------------------------------------------------------------------------


def run_cli(capsys, *argv: str) -> Tuple[int, str]:
    from bot.alerts.cli import main

    code = main(list(argv))
    return code, capsys.readouterr().out


def test_the_cli_preview_says_who_falls_back_before_anything_is_sent(capsys):
    add_residents(bilingual_town())
    code, out = run_cli(capsys, "preview", "--topic", "water", "--zone", "all", "--no-channels")
    assert code == 0 and "reach 7 resident(s)" in out
    assert "telegram  4  (English 3, Spanish 1)" in out and "By language: English 4, Spanish 3" in out
    assert "No Spanish text: 3 Spanish readers will get the English text (add --text-es)." in out
    code, out = run_cli(capsys, "preview", "--topic", "water", "--zone", "all", "--no-channels", "--text-es", SPANISH)
    assert code == 0 and "No Spanish text" not in out


def test_the_cli_writes_a_text_per_language_and_the_approver_reads_each(capsys):
    add_accounts("dana", "lee")
    add_residents(bilingual_town())
    argv = ["create", "--topic", "water", "--zone", "all", "--severity", "advisory", "--text-en", ENGLISH]
    code, out = run_cli(capsys, *argv, "--text-es", SPANISH_WITH_ACCENTS, "--by", "dana")
    assert code == 0, out
    assert "English readers will read:\n  City of Riverton advisory: " in out
    assert f"Spanish readers will read:\n  Ciudad de Riverton, advertencia: {SPANISH_WITH_ACCENTS}" in out
    assert "sms: 3 SMS segments in Spanish each" in out and "UCS-2" in out and "No Spanish text" not in out
    alert = asyncio.run(store.list_alerts())[0]
    assert (alert.text, alert.translations, alert.state) == (ENGLISH, {"es": SPANISH_WITH_ACCENTS}, store.DRAFT)
    code, out = run_cli(capsys, "approve", str(alert.id), "--by", "lee", "--yes")
    assert code == 0 and f"Ciudad de Riverton, advertencia: {SPANISH_WITH_ACCENTS}" in out  # what the approver read
    code, out = run_cli(capsys, *argv, "--by", "dana")
    assert code == 0 and "No Spanish text: 3 Spanish readers will get the English text" in out
    code, out = run_cli(capsys, "send", str(alert.id), "--by", "dana", "--yes", "--no-wait")
    assert code == 0, out
    code, out = run_cli(capsys, "status", str(alert.id))
    assert f"[es] {SPANISH_WITH_ACCENTS}" in out and "readers: English 4, Spanish 3" in out


def test_staff_can_try_a_spanish_alert_on_their_own_phone(capsys):
    address = "+15550009876"
    code, out = run_cli(capsys, "subscribe-test", "--channel", "sms", "--address", address, "--language", "es")
    assert code == 0 and "reads Spanish" in out
    preview = asyncio.run(store.preview_alert(ALL, ALL))
    assert preview.by_channel_language == {"sms": {"es": 1}}


def test_the_cli_knows_only_the_citys_languages(capsys):
    from bot.alerts.cli import main

    add_accounts("dana")
    with pytest.raises(SystemExit):
        main(["create", "--topic", "water", "--zone", "all", "--severity", "advisory", "--text", "x", "--text-fr", "y"])
    code = main(
        [
            "create",
            "--by",
            "dana",
            "--topic",
            "water",
            "--zone",
            "all",
            "--severity",
            "advisory",
            "--text",
            "x",
            "--text-es",
            " ",
        ]
    )
    assert code == 2 and asyncio.run(store.list_alerts()) == []
