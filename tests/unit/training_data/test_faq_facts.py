"""Every FAQ answer states the key facts of its topic from the city's fact sheet, in English and in Spanish.

The fact sheet is /work/shared/city/riverton.yml (the repo root's parent /
shared / city / riverton.yml); the answers are the utter_faq/<topic>
responses in data/nlu/faq.yml. The English answers are checked against the
phrases of bot/answers/facts.py; the Spanish ones against the figures of the
bundled city file's facts (bot/city/riverton.yml, the same `faq:` section,
always present): every number, amount, time, address, phone number and web or
e-mail address a fact states, and its weekdays and months, must be in the
Spanish answer. The checks are bot/answers/facts.py's, which the console also
runs on every text staff publish (bot/answers/checks.py): the last tests here
drop each fact from each answer and see the text refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import yaml

from bot.answers import facts
from bot.answers.checks import MARKDOWN, MAX_CHARS, problems
from bot.answers.facts import LIVE_TOPICS, MUST_CONTAIN, SPANISH_MUST_CONTAIN, spanish_figures, states

REPO_ROOT = Path(__file__).resolve().parents[3]
FAQ_FILE = REPO_ROOT / "data" / "nlu" / "faq.yml"
CITY_FILE = REPO_ROOT.parent / "shared" / "city" / "riverton.yml"
BUNDLED_CITY_FILE = REPO_ROOT / "bot" / "city" / "riverton.yml"
SPANISH = [{"type": "slot", "name": "language", "value": "es"}]


@pytest.fixture(scope="module")
def city() -> dict:
    if not CITY_FILE.is_file():
        pytest.skip(f"city fact sheet not found at {CITY_FILE} (expected <repo>/../shared/city/riverton.yml)")
    return yaml.safe_load(CITY_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def faq_data() -> dict:
    return yaml.safe_load(FAQ_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bundled_facts() -> Dict[str, List[str]]:
    faq = yaml.safe_load(BUNDLED_CITY_FILE.read_text(encoding="utf-8"))["faq"]
    return {topic: [str(fact) for fact in entry["facts"]] for topic, entry in faq.items() if topic not in LIVE_TOPICS}


def _answers(faq_data: dict, condition: Optional[list]) -> Dict[str, str]:
    """Topic -> the text of its answer's variation with this condition (None: the English one)."""
    out: Dict[str, str] = {}
    for name, variants in (faq_data.get("responses") or {}).items():
        assert name.startswith("utter_faq/"), f"unexpected response {name} in faq.yml"
        texts = [v.get("text") for v in variants if v.get("condition") == condition]
        assert len(texts) == 1, f"{name}: expected exactly one variant with condition {condition}"
        assert isinstance(texts[0], str) and texts[0].strip(), f"{name}: empty text"
        out[name.split("/", 1)[1]] = texts[0]
    return out


@pytest.fixture(scope="module")
def answers(faq_data: dict) -> Dict[str, str]:
    return _answers(faq_data, None)


@pytest.fixture(scope="module")
def spanish_answers(faq_data: dict) -> Dict[str, str]:
    return _answers(faq_data, SPANISH)


def fixed_topics(city: dict) -> set:
    """The fact sheet's topics a fixed FAQ text answers (not those answered from live data, such as jobs)."""
    return set(city["faq"]) - LIVE_TOPICS


def test_every_city_topic_has_an_answer(city: dict, answers: Dict[str, str]) -> None:
    topics = fixed_topics(city)
    missing = sorted(topics - set(answers))
    extra = sorted(set(answers) - topics)
    assert not missing, f"FAQ topics without an utter_faq response: {missing}"
    assert not extra, f"utter_faq responses for topics not in riverton.yml: {extra}"


def test_every_city_topic_has_facts_listed_here(city: dict) -> None:
    missing = sorted(fixed_topics(city) - set(MUST_CONTAIN))
    assert not missing, f"add must-contain facts for: {missing}"


def test_every_city_topic_has_training_examples(city: dict, faq_data: dict) -> None:
    counts = {}
    for item in faq_data.get("nlu") or []:
        intent = item.get("intent", "")
        if intent.startswith("faq/"):
            counts[intent[4:]] = len([line for line in item["examples"].splitlines() if line.strip().startswith("- ")])
    for topic in fixed_topics(city):
        assert counts.get(topic, 0) >= 10, f"faq/{topic} has {counts.get(topic, 0)} examples"


@pytest.mark.parametrize("topic", sorted(MUST_CONTAIN))
def test_answer_states_key_facts(topic: str, city: dict, answers: Dict[str, str]) -> None:
    assert topic in city["faq"], f"{topic} is no longer an FAQ topic in riverton.yml"
    assert topic in answers, f"no utter_faq/{topic}"
    absent = facts.missing_in_english(topic, answers[topic])
    assert not absent, f"utter_faq/{topic} does not state: {absent}\n  text: {answers[topic]}"


def test_every_topic_has_a_spanish_answer(bundled_facts: Dict[str, List[str]], spanish_answers: Dict[str, str]) -> None:
    assert sorted(spanish_answers) == sorted(bundled_facts)
    assert set(SPANISH_MUST_CONTAIN) <= set(bundled_facts)


def test_spanish_figures_are_read_from_the_facts() -> None:
    given = ["Monday to Friday, 8:30 AM to 5:00 PM, 2nd floor", "$15 a year, 1.5% a month, at riverton.gov/trash"]
    assert spanish_figures(given) == [
        "8:30 a. m.",
        "5:00 p. m.",
        "2",
        "lunes",
        "viernes",
        "$15",
        "1.5%",
        "riverton.gov/trash",
    ]
    assert states("el 1 de marzo", "1") and not states("$15 y 1.5%", "1") and not states("10 días", "1")
    assert states("el 2.º y el 4.º lunes", "2") and not states("a las 8:30", "30")


@pytest.mark.parametrize(
    "topic", sorted(set(yaml.safe_load(BUNDLED_CITY_FILE.read_text(encoding="utf-8"))["faq"]) - LIVE_TOPICS)
)
def test_spanish_answer_states_key_figures(
    topic: str, bundled_facts: Dict[str, List[str]], spanish_answers: Dict[str, str]
) -> None:
    wanted = spanish_figures(bundled_facts[topic]) + SPANISH_MUST_CONTAIN.get(topic, [])
    assert wanted, f"{topic}: no figure found in its facts; list what the answer must say in SPANISH_MUST_CONTAIN"
    text = spanish_answers[topic]
    absent = facts.missing_in_spanish(topic, text, bundled_facts[topic])
    assert not absent, f"utter_faq/{topic} [es] does not state: {absent}\n  text: {text}"


def test_answers_are_short_plain_text(answers: Dict[str, str], spanish_answers: Dict[str, str]) -> None:
    for topic, text in [*answers.items(), *spanish_answers.items()]:
        assert len(text) <= MAX_CHARS, f"utter_faq/{topic} is {len(text)} chars (max {MAX_CHARS})"
        assert not MARKDOWN.search(text), f"utter_faq/{topic} contains markdown"


# --- the same checks on what staff publish (bot/answers/checks.py) ------------------------------


def without(text: str, phrase: str) -> str:
    """The text with every spelling of `phrase` (each alternative of "a|b") taken out."""
    for option in phrase.split("|"):
        text = re.sub(re.escape(option), "", text, flags=re.IGNORECASE)
    return text


def test_every_answer_as_written_could_be_published(answers: Dict[str, str], spanish_answers: Dict[str, str]) -> None:
    for language, texts in (("en", answers), ("es", spanish_answers)):
        for topic, text in texts.items():
            assert problems(f"utter_faq/{topic}", language, text) == [], (topic, language)


@pytest.mark.parametrize("topic", sorted(MUST_CONTAIN))
def test_a_published_english_answer_that_drops_a_fact_is_refused(topic: str, answers: Dict[str, str]) -> None:
    for fact in MUST_CONTAIN[topic]:
        refused = problems(f"utter_faq/{topic}", "en", without(answers[topic], fact))
        assert len(refused) == 1 and "no longer states" in refused[0], (fact, refused)
        assert fact.split("|")[0] in refused[0], (fact, refused)


@pytest.mark.parametrize(
    "topic", sorted(set(yaml.safe_load(BUNDLED_CITY_FILE.read_text(encoding="utf-8"))["faq"]) - LIVE_TOPICS)
)
def test_a_published_spanish_answer_that_drops_a_fact_is_refused(
    topic: str, bundled_facts: Dict[str, List[str]], spanish_answers: Dict[str, str]
) -> None:
    for figure in spanish_figures(bundled_facts[topic]) + SPANISH_MUST_CONTAIN.get(topic, []):
        refused = problems(f"utter_faq/{topic}", "es", without(spanish_answers[topic], figure))
        assert len(refused) == 1 and f"“{figure}”" in refused[0], (figure, refused)


def test_a_live_topic_has_no_fixed_answer_and_no_faq_examples(faq_data: dict, answers: Dict[str, str]) -> None:
    """One answer per question: "is the city hiring?" is the jobs answer, never also a fixed FAQ text."""
    intents = {item.get("intent") for item in faq_data.get("nlu") or []}
    for topic in LIVE_TOPICS:
        assert topic not in answers
        assert f"faq/{topic}" not in intents
