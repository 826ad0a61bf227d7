"""Alerts in conversation: the subscribe/unsubscribe actions on tracker fixtures, and their NLU data."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.alerts import ActionSubscribeAlerts, ActionUnsubscribeAlerts
from bot.alerts import store
from bot.alerts.keywords import parse_alert_keyword
from bot.alerts.words import (
    ALL,
    TOPIC_WORDS,
    TOPICS,
    ZONE_WORDS,
    ZONES,
    normalize_topic,
    normalize_zone,
    topics_in,
    zones_in,
)
from bot.db.engine import reset_database
from bot.process.procs import PROJECT_ROOT
from tests.support.residents import Resident, add_residents

ALERTS_YML = PROJECT_ROOT / "data" / "nlu" / "alerts.yml"
SPANISH_YML = PROJECT_ROOT / "data" / "nlu" / "es" / "alerts.yml"
TRAINING_FILES = [ALERTS_YML, SPANISH_YML]  # the intents' examples, per language
EVAL = PROJECT_ROOT.parent / "shared" / "eval"
INTENTS = ("subscribe_alerts", "unsubscribe_alerts")


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


def tracker(sender_id: str, text: str, intent: str, entities: Optional[List[Dict[str, Any]]] = None) -> Tracker:
    """A tracker as the Rasa server sends it to the action server."""
    return Tracker(
        sender_id=sender_id,
        slots={},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.97}, "entities": entities or []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def entity(name: str, value: str) -> Dict[str, Any]:
    return {"entity": name, "value": value, "extractor": "RegexEntityExtractor"}


async def say(action: Any, sender_id: str, text: str, entities: Optional[List[Dict[str, Any]]] = None) -> str:
    dispatcher = CollectingDispatcher()
    intent = "subscribe_alerts" if isinstance(action, ActionSubscribeAlerts) else "unsubscribe_alerts"
    events = await action.run(dispatcher, tracker(sender_id, text, intent, entities), {})
    assert events == []
    return " ".join(m.get("text") or "" for m in dispatcher.messages)


# --- the actions -------------------------------------------------------------------------


async def test_subscribing_with_entities_on_telegram():
    add_residents([Resident("telegram-1", "telegram", "555001", pairs=())])
    reply = await say(
        ActionSubscribeAlerts(),
        "telegram-1",
        "send me boil water alerts for the north side",
        [entity("alert_topic", "water"), entity("zone", "north")],
    )
    assert await store.subscriptions_of("telegram-1") == [("water", "north")]
    assert "water alerts for the North zone" in reply and 'Say "stop alerts"' in reply
    reply = await say(
        ActionSubscribeAlerts(),
        "telegram-1",
        "boil water alerts for the north side please",
        [entity("alert_topic", "water"), entity("zone", "north")],
    )
    assert "already" in reply


async def test_subscribing_without_an_extractor_reads_the_words():
    add_residents([Resident("sms-2", "sms", "+15550002222", pairs=())])
    reply = await say(ActionSubscribeAlerts(), "sms-2", "text me about road closures and storms on the eastside")
    assert set(await store.subscriptions_of("sms-2")) == {("roads", "east"), ("weather", "east")}
    assert "ALERTS OFF" in reply and "STOP" in reply  # SMS wording


async def test_subscribing_to_everything_suggests_how_to_narrow_it():
    add_residents([Resident("webchat-3", "webchat", "s3", pairs=())])
    reply = await say(ActionSubscribeAlerts(), "webchat-3", "send me emergency alerts")
    assert await store.subscriptions_of("webchat-3") == [(ALL, ALL)]
    assert "all alerts citywide" in reply and "only water alerts" in reply


async def test_a_conversation_that_cannot_be_reached_is_told_so_and_not_subscribed():
    reply = await say(ActionSubscribeAlerts(), "rest-resident", "send me emergency alerts")
    assert "not to this conversation" in reply
    assert await store.subscriptions_of("rest-resident") == []


async def test_unsubscribing_part_then_all():
    add_residents([Resident("telegram-4", "telegram", "555004")])  # all alerts, citywide
    reply = await say(
        ActionUnsubscribeAlerts(), "telegram-4", "stop the water alerts", [entity("alert_topic", "water")]
    )
    assert set(await store.subscriptions_of("telegram-4")) == {("weather", ALL), ("roads", ALL)}
    assert "still get" in reply and "weather alerts citywide" in reply
    reply = await say(ActionUnsubscribeAlerts(), "telegram-4", "stop alerts")
    assert await store.subscriptions_of("telegram-4") == [] and "off" in reply
    reply = await say(ActionUnsubscribeAlerts(), "telegram-4", "stop alerts")
    assert "weren't getting" in reply


async def test_entity_values_are_read_whatever_the_spelling():
    add_residents([Resident("telegram-5", "telegram", "555005", pairs=())])
    await say(
        ActionSubscribeAlerts(),
        "telegram-5",
        "snow and flooding warnings westside",
        [entity("alert_topic", "snowstorm"), entity("zone", "Westside"), entity("alert_topic", "pizza")],
    )
    assert await store.subscriptions_of("telegram-5") == [("weather", "west")]


# --- the NLU data ---------------------------------------------------------------------------

ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<simple>[^)]+)\)|(?P<json>\{[^}]+\}))")


def examples(path: Path = ALERTS_YML) -> Iterator[tuple]:
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    for block in content["nlu"]:
        if "intent" in block:
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    yield block["intent"], line[2:]


def plain(example: str) -> str:
    return ANNOTATION.sub(lambda m: m.group("text"), example)


def annotations(example: str) -> List[tuple]:
    found = []
    for match in ANNOTATION.finditer(example):
        if match.group("simple"):
            name, value = match.group("simple"), match.group("text")
        else:
            data = json.loads(match.group("json"))
            name, value = data["entity"], data.get("value", match.group("text"))
        found.append((name, match.group("text"), value))
    return found


@pytest.mark.parametrize("training_file", TRAINING_FILES, ids=lambda path: path.parent.name)
def test_about_forty_examples_per_intent_none_repeated_or_shared_with_other_intents(training_file: Path):
    pairs = list(examples(training_file))
    for intent in INTENTS:
        assert len([1 for i, _ in pairs if i == intent]) >= 40
    texts = [plain(e).lower() for _, e in pairs]
    assert len(texts) == len(set(texts))
    others: Set[str] = set()
    for path in training_file.parent.glob("*.yml"):
        if path.name == training_file.name:
            continue
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    others.add(plain(line.strip()[2:]).lower())
    assert not set(texts) & others


@pytest.mark.parametrize("training_file", TRAINING_FILES, ids=lambda path: path.parent.name)
def test_annotations_name_known_values_and_the_actions_read_them_alike(training_file: Path):
    for _intent, example in examples(training_file):
        text = plain(example)
        for name, said, value in annotations(example):
            assert name in ("alert_topic", "zone"), example
            if name == "alert_topic":
                assert value in TOPICS + (ALL,) and normalize_topic(said) == value, example
                assert value in topics_in(text), example  # the actions' fallback finds it too
            else:
                assert value in ZONES + (ALL,) and normalize_zone(said) == value, example
                assert value in zones_in(text), example


@pytest.mark.parametrize("training_file", TRAINING_FILES, ids=lambda path: path.parent.name)
def test_keyword_shaped_examples_mean_the_same_as_their_intent(training_file: Path):
    checked = 0
    for intent, example in examples(training_file):
        command = parse_alert_keyword(plain(example))
        if command is not None and command.action != "status":
            assert command.action == ("on" if intent == "subscribe_alerts" else "off"), example
            checked += 1
    assert checked >= 5


def test_lookup_tables_and_synonyms_match_the_words_the_actions_know():
    content = yaml.safe_load(ALERTS_YML.read_text(encoding="utf-8"))
    lookups = {
        block["lookup"]: {line.strip()[2:] for line in block["examples"].splitlines() if line.strip()}
        for block in content["nlu"]
        if "lookup" in block
    }
    assert lookups["alert_topic"] == {p for ps in TOPIC_WORDS.values() for p in ps}
    assert lookups["zone"] == {p for ps in ZONE_WORDS.values() for p in ps}
    for block in content["nlu"]:
        if "synonym" in block:
            for line in block["examples"].splitlines():
                phrase = line.strip()[2:]
                if phrase:
                    assert block["synonym"] in (normalize_topic(phrase), normalize_zone(phrase)), phrase


def _eval_sentences() -> Set[str]:
    def norm(text: str) -> str:
        return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())

    found: Set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.add(norm(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in EVAL.rglob("*.json"):
        try:
            walk(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
    for path in EVAL.rglob("*.csv"):
        with path.open(encoding="utf-8") as handle:
            for row in csv.reader(handle):
                walk(row)
    return found


@pytest.mark.skipif(not EVAL.is_dir(), reason="the external evaluation sets are not here")
def test_no_example_comes_from_the_external_evaluation_sets():
    external = _eval_sentences()
    assert len(external) > 1000
    ours = {
        " ".join(re.sub(r"[^a-z0-9 ]+", " ", plain(e).lower()).split())
        for path in TRAINING_FILES
        for _, e in examples(path)
    }
    assert not ours & external


def test_the_recommended_extractors_find_topics_and_zones(tmp_path):
    """config.yml: RegexEntityExtractor with use_lookup_tables: true, then EntitySynonymMapper."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.extractors.entity_synonyms import EntitySynonymMapper
    from rasa.nlu.extractors.regex_entity_extractor import RegexEntityExtractor
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.message import Message

    data = load_data(str(ALERTS_YML)).merge(load_data(str(SPANISH_YML)))
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "alerts-test")
    config = {**RegexEntityExtractor.get_default_config(), "use_lookup_tables": True}
    extractor = RegexEntityExtractor.create(config, storage, Resource("regex"), context)
    extractor.train(data)
    synonyms = EntitySynonymMapper.create(EntitySynonymMapper.get_default_config(), storage, Resource("syn"), context)
    synonyms.train(data)
    tokenizer = WhitespaceTokenizer.create(WhitespaceTokenizer.get_default_config(), storage, Resource("tok"), context)
    cases = {
        "please send me boil water alerts for the north side": {("alert_topic", "water"), ("zone", "north")},
        "no more storm warnings": {("alert_topic", "weather")},
        "ALERTS ON ROADS EASTSIDE": {("alert_topic", "roads"), ("zone", "east")},
        "citywide road closures please": {("alert_topic", "roads"), ("zone", "all")},
        "where do I pay a parking ticket": set(),
        "quiero alertas de inundación para la zona norte": {("alert_topic", "weather"), ("zone", "north")},
        "ya no quiero alertas de trafico en el oeste": {("alert_topic", "roads"), ("zone", "west")},
        "ALERTAS SI AGUA SUR": {("alert_topic", "water"), ("zone", "south")},
        "avisos de hervir el agua para toda la ciudad": {("alert_topic", "water"), ("zone", "all")},
        "donde pago una multa de estacionamiento": set(),
    }
    messages = [Message.build(text) for text in cases]
    tokenizer.process(messages)
    extractor.process(messages)
    synonyms.process(messages)
    for message, expected in zip(messages, cases.values(), strict=True):
        got = {(e["entity"], e["value"]) for e in message.get("entities", [])}
        assert got == expected, message.get("text")
