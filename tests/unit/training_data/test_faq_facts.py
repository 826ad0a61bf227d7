"""Every FAQ answer states the key facts of its topic from the city's fact sheet.

The fact sheet is /work/shared/city/riverton.yml (the repo root's parent /
shared / city / riverton.yml); the answers are the utter_faq/<topic>
responses in data/nlu/faq.yml.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
FAQ_FILE = REPO_ROOT / "data" / "nlu" / "faq.yml"
CITY_FILE = REPO_ROOT.parent / "shared" / "city" / "riverton.yml"

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
def answers(faq_data: dict) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for name, variants in (faq_data.get("responses") or {}).items():
        assert name.startswith("utter_faq/"), f"unexpected response {name} in faq.yml"
        assert isinstance(variants, list) and len(variants) == 1, f"{name}: expected exactly one variant"
        text = variants[0].get("text")
        assert isinstance(text, str) and text.strip(), f"{name}: empty text"
        out[name.split("/", 1)[1]] = text
    return out


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


def test_answers_are_short_plain_text(answers: Dict[str, str]) -> None:
    for topic, text in answers.items():
        assert len(text) <= MAX_CHARS, f"utter_faq/{topic} is {len(text)} chars (max {MAX_CHARS})"
        assert not re.search(r"\*\*|__|\]\(|^#+ |`", text, re.M), f"utter_faq/{topic} contains markdown"
