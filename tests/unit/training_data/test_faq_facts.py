"""Every FAQ answer states the key facts of its topic from the city's fact sheet, in English and in Spanish.

The fact sheet is /work/shared/city/riverton.yml (the repo root's parent /
shared / city / riverton.yml); the answers are the utter_faq/<topic>
responses in data/nlu/faq.yml. The English answers are checked against the
phrases listed here; the Spanish ones against the figures of the bundled city
file's facts (bot/city/riverton.yml, the same `faq:` section, always present):
every number, amount, time, address, phone number and web or e-mail address a
fact states, and its weekdays and months, must be in the Spanish answer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
FAQ_FILE = REPO_ROOT / "data" / "nlu" / "faq.yml"
CITY_FILE = REPO_ROOT.parent / "shared" / "city" / "riverton.yml"
BUNDLED_CITY_FILE = REPO_ROOT / "bot" / "city" / "riverton.yml"
SPANISH = [{"type": "slot", "name": "language", "value": "es"}]

MAX_CHARS = 600

# Per topic, substrings the answer must contain (compared case-insensitively,
# with runs of whitespace collapsed).
MUST_CONTAIN: Dict[str, List[str]] = {
    "city_hall_hours": ["200 Main Street", "Monday to Friday", "8:30", "5:00", "weekend", "holiday"],
    "trash_day": [
        "North zone Monday",
        "East zone Tuesday",
        "South zone Wednesday",
        "West zone Thursday",
        "6:00 AM",
        "curb",
        "riverton.gov/trash",
    ],
    "recycling_rules": [
        "paper",
        "cardboard",
        "#1",
        "#2",
        "#5",
        "metal cans",
        "glass bottles",
        "jars",
        "plastic bags",
        "styrofoam",
        "food waste",
        "every week",
        "trash day",
    ],
    "bulk_pickup": [
        "furniture",
        "mattresses",
        "appliances",
        "appointment",
        "3 business days",
        "311",
        "free twice a year",
        "household",
        "$25",
    ],
    "yard_waste": ["April", "November", "paper yard bags", "green cart", "no plastic bags|don't use plastic bags"],
    "parking_ticket_pay": [
        "riverton.gov/parking",
        "by phone",
        "City Hall",
        "expired meter $35",
        "street sweeping $50",
        "fire hydrant $100",
        "$25",
        "30 days",
    ],
    "parking_ticket_dispute": [
        "21 days",
        "issue date",
        "online",
        "mail",
        "Parking Adjudication Office",
        "hearing officer",
        "30 days",
    ],
    "street_sweeping": ["April", "November", "first and third Tuesday", "posted streets", "$50"],
    "snow_emergency": ["declared", "snow route", "towed", "riverton.gov", "radio", "alert"],
    "property_tax": [
        "two installments",
        "March 1",
        "September 1",
        "online",
        "mail",
        "Treasurer's Office",
        "City Hall",
        "1.5% per month",
    ],
    "water_bill": [
        "every two months",
        "Riverton Water Utility",
        "online",
        "autopay",
        "City Hall",
        "assistance",
        "seniors",
        "low-income",
    ],
    "business_license": ["every business", "City Clerk", "online", "$75 a year", "January"],
    "building_permit": [
        "new construction",
        "additions",
        "roofing",
        "decks over 30 inches",
        "electrical",
        "plumbing",
        "Permit Center",
        "2nd floor",
        "City Hall",
        "online",
        "10 business days",
        "residential",
    ],
    "dog_license": ["4 months", "$15", "spayed or neutered", "$40", "rabies"],
    "birth_certificate": ["City Clerk", "Vital Records", "$20", "first copy", "$5", "photo ID"],
    "marriage_license": ["both", "in person", "City Clerk", "photo ID", "$60", "60 days"],
    "voter_registration": ["online", "mail", "City Clerk", "15 days before", "18", "Riverton resident"],
    "library_hours": [
        "Main Library",
        "50 Elm Street",
        "Monday to Thursday 9 AM to 8 PM",
        "Friday and Saturday 9 AM to 5 PM",
        "closed Sunday",
        "free",
    ],
    "park_reservation": [
        "picnic shelters",
        "sports fields",
        "Parks Department",
        "6 months",
        "$40",
        "$80",
        "non-residents",
    ],
    "city_jobs": ["riverton.gov/jobs", "online", "14 days", "paid internships", "students", "summer"],
    "public_meetings": [
        "2nd and 4th Monday",
        "6:30 PM",
        "Council Chambers",
        "City Hall",
        "streamed live",
        "open to the public",
        "72 hours",
    ],
    "contact_mayor": ["Office of the Mayor", "3rd floor", "City Hall", "mayor@riverton.gov", "311"],
    "senior_services": [
        "Riverton Senior Center",
        "75 Oak Avenue",
        "free rides",
        "medical appointments",
        "65",
        "48 hours",
        "weekdays at noon",
    ],
    "cooling_warming_centers": [
        "heat index",
        "100",
        "below 10",
        "Main Library",
        "Senior Center",
        "recreation centers",
        "10 AM to 8 PM",
        "advisory",
    ],
    "power_outage": [
        "Riverton Power & Light",
        "not the city",
        "(555) 010-0900",
        "downed power line",
        "911",
        "stay away",
    ],
    "how_311_works": ["non-emergency", "24 hours a day", "reference number", "status", "911"],
    "privacy": ["only to handle your request", "optional", "anonymous", "90 days", "open request"],
}


# A figure a fact states, written the same way in every language (a time's AM/PM aside).
FIGURE = re.compile(
    r"\(\d{3}\) \d{3}-\d{4}"  # a phone number
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # an e-mail address
    r"|\b[a-z]+\.gov(?:/[a-z]+)?"  # a web address
    r"|\b\d+ [A-Z][a-z]+ (?:Street|Avenue)\b"  # a street address
    r"|\$\d+(?:\.\d+)?"  # an amount
    r"|\d+(?:\.\d+)?%"  # a percentage
    r"|\b\d{1,2}(?::\d{2})? ?[AP]M\b"  # a time of day
    r"|#?\d+(?:\.\d+)?"  # a number, a count, an ordinal's digits ("2nd floor": 2)
)
SPANISH_TIME = {"AM": "a. m.", "PM": "p. m."}
SPANISH_NAMES = {
    "Monday": "lunes",
    "Tuesday": "martes",
    "Wednesday": "miércoles",
    "Thursday": "jueves",
    "Friday": "viernes",
    "Saturday": "sábado",
    "Sunday": "domingo",
    "January": "enero",
    "February": "febrero",
    "March": "marzo",
    "April": "abril",
    "May": "mayo",
    "June": "junio",
    "July": "julio",
    "August": "agosto",
    "September": "septiembre",
    "October": "octubre",
    "November": "noviembre",
    "December": "diciembre",
}
# Per topic, what its facts say in words rather than figures (compared as MUST_CONTAIN is).
SPANISH_MUST_CONTAIN: Dict[str, List[str]] = {
    "city_hall_hours": ["fines de semana", "feriados"],
    "recycling_rules": ["cada semana"],
    "bulk_pickup": ["gratis", "dos veces al año", "hogar"],
    "property_tax": ["dos pagos"],
    "water_bill": ["cada dos meses"],
    "street_sweeping": ["primer", "tercer"],
    "library_hours": ["gratis"],
    "senior_services": ["gratis", "entre semana", "mediodía"],
    "power_outage": ["Riverton Power & Light"],
}


def spanish_figures(facts: List[str]) -> List[str]:
    """What a Spanish answer must contain for these facts: their figures and, in Spanish, weekdays and months."""
    wanted = []
    for fact in facts:
        for figure in FIGURE.findall(fact):
            wanted.append(re.sub(r" ?([AP]M)$", lambda m: " " + SPANISH_TIME[m.group(1)], figure))
        wanted += [SPANISH_NAMES[name] for name in re.findall(r"\b(?:" + "|".join(SPANISH_NAMES) + r")\b", fact)]
    return wanted


def states(text: str, figure: str) -> bool:
    """`figure` is in `text` on its own: "1" is not the 1 of "$15", "1.5%" or "10"."""
    return re.search(r"(?<![\w.:,$#])" + re.escape(_norm(figure)) + r"(?![\w]|[.,]\d)", _norm(text)) is not None


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


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
    return {topic: [str(fact) for fact in entry["facts"]] for topic, entry in faq.items()}


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


def test_every_city_topic_has_an_answer(city: dict, answers: Dict[str, str]) -> None:
    topics = set(city["faq"])
    missing = sorted(topics - set(answers))
    extra = sorted(set(answers) - topics)
    assert not missing, f"FAQ topics without an utter_faq response: {missing}"
    assert not extra, f"utter_faq responses for topics not in riverton.yml: {extra}"


def test_every_city_topic_has_facts_listed_here(city: dict) -> None:
    missing = sorted(set(city["faq"]) - set(MUST_CONTAIN))
    assert not missing, f"add must-contain facts for: {missing}"


def test_every_city_topic_has_training_examples(city: dict, faq_data: dict) -> None:
    counts = {}
    for item in faq_data.get("nlu") or []:
        intent = item.get("intent", "")
        if intent.startswith("faq/"):
            counts[intent[4:]] = len([line for line in item["examples"].splitlines() if line.strip().startswith("- ")])
    for topic in city["faq"]:
        assert counts.get(topic, 0) >= 10, f"faq/{topic} has {counts.get(topic, 0)} examples"


@pytest.mark.parametrize("topic", sorted(MUST_CONTAIN))
def test_answer_states_key_facts(topic: str, city: dict, answers: Dict[str, str]) -> None:
    assert topic in city["faq"], f"{topic} is no longer an FAQ topic in riverton.yml"
    assert topic in answers, f"no utter_faq/{topic}"
    text = _norm(answers[topic])
    absent = []
    for fact in MUST_CONTAIN[topic]:
        options = [_norm(o) for o in fact.split("|")]
        if not any(o in text for o in options):
            absent.append(fact)
    assert not absent, f"utter_faq/{topic} does not state: {absent}\n  text: {answers[topic]}"


def test_every_topic_has_a_spanish_answer(bundled_facts: Dict[str, List[str]], spanish_answers: Dict[str, str]) -> None:
    assert sorted(spanish_answers) == sorted(bundled_facts)
    assert set(SPANISH_MUST_CONTAIN) <= set(bundled_facts)


def test_spanish_figures_are_read_from_the_facts() -> None:
    facts = ["Monday to Friday, 8:30 AM to 5:00 PM, 2nd floor", "$15 a year, 1.5% a month, at riverton.gov/trash"]
    assert spanish_figures(facts) == [
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


@pytest.mark.parametrize("topic", sorted(yaml.safe_load(BUNDLED_CITY_FILE.read_text(encoding="utf-8"))["faq"]))
def test_spanish_answer_states_key_figures(
    topic: str, bundled_facts: Dict[str, List[str]], spanish_answers: Dict[str, str]
) -> None:
    wanted = spanish_figures(bundled_facts[topic]) + SPANISH_MUST_CONTAIN.get(topic, [])
    assert wanted, f"{topic}: no figure found in its facts; list what the answer must say in SPANISH_MUST_CONTAIN"
    text = spanish_answers[topic]
    absent = [figure for figure in wanted if not states(text, figure)]
    assert not absent, f"utter_faq/{topic} [es] does not state: {absent}\n  text: {text}"


def test_answers_are_short_plain_text(answers: Dict[str, str], spanish_answers: Dict[str, str]) -> None:
    for topic, text in [*answers.items(), *spanish_answers.items()]:
        assert len(text) <= MAX_CHARS, f"utter_faq/{topic} is {len(text)} chars (max {MAX_CHARS})"
        assert not re.search(r"\*\*|__|\]\(|^#+ |`", text, re.M), f"utter_faq/{topic} contains markdown"
