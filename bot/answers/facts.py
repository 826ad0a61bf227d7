"""What an FAQ answer must state, from the city file's facts (`faq:`), in English and in Spanish.

The same checks run on the answers the training files write
(tests/unit/training_data/test_faq_facts.py) and on every text staff publish in
the console (bot/answers/checks.py): an answer that drops a fact is refused.
English answers must contain the phrases listed here for their topic (one of
the alternatives of "a|b"); Spanish answers every figure of the topic's facts
(number, amount, time, address, phone number, web or e-mail address), its
weekdays and months in Spanish, and the words listed for it. Another language
has no check yet.
"""

from __future__ import annotations

import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from bot.catalog import load_city

# Per topic, substrings the answer must contain (compared case-insensitively,
# with runs of whitespace collapsed).
# Topics of the city's fact sheet answered from live data instead of a fixed text: no utter_faq response.
# city_jobs: the open postings themselves (bot/jobs, actions/jobs.py).
LIVE_TOPICS = frozenset({"city_jobs"})

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
    return (
        re.search(r"(?<![\w.:,$#])" + re.escape(normalized(figure)) + r"(?![\w]|[.,]\d)", normalized(text)) is not None
    )


def normalized(text: str) -> str:
    """Compared as a resident reads: case and runs of whitespace ignored."""
    return re.sub(r"\s+", " ", text).strip().lower()


def missing_in_english(topic: str, text: str) -> List[str]:
    """The phrases of MUST_CONTAIN[topic] the text lacks (each given as written, alternatives with "|")."""
    found = normalized(text)
    return [
        fact
        for fact in MUST_CONTAIN.get(topic, [])
        if not any(normalized(option) in found for option in fact.split("|"))
    ]


def missing_in_spanish(topic: str, text: str, facts: Sequence[str]) -> List[str]:
    """The figures and words of the topic's facts a Spanish text does not state."""
    wanted = spanish_figures(list(facts)) + SPANISH_MUST_CONTAIN.get(topic, [])
    return [figure for figure in wanted if not states(text, figure)]


def city_facts() -> Mapping[str, Tuple[str, ...]]:
    """Each FAQ topic's facts, from the city file (CITY_FILE, else the bundled one)."""
    return load_city().faq_facts


def missing_facts(
    topic: str, language: str, text: str, facts: Optional[Mapping[str, Sequence[str]]] = None
) -> List[str]:
    """What of the topic's facts an answer in `language` does not state ([]: all of them, or no check)."""
    if language == "en":
        return missing_in_english(topic, text)
    if language == "es":
        return missing_in_spanish(topic, text, (city_facts() if facts is None else facts).get(topic, ()))
    return []
