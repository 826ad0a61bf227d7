"""What the simulated residents say, conversation by conversation."""

from __future__ import annotations

from typing import Dict, Tuple

# How a resident opens each report, and their answer to each of the service's
# questions (keyed by attribute code); the same scripts the end-to-end tests use.
REPORTS_SCRIPTS: Dict[str, Tuple[str, Dict[str, str]]] = {
    "POTHOLE": ("I need to report a pothole", {"size": "it's a big one", "lane": "bike lane"}),
    "SIDEWALK": ("the sidewalk in front of my house is broken", {"hazard": "raised or lifted"}),
    "MISSED_TRASH": ("my garbage wasn't picked up today", {"bin_type": "recycling", "set_out_on_time": "yes"}),
    "STREETLIGHT": ("the street light on my block is out", {"problem": "flickering", "pole_number": "skip"}),
    "GRAFFITI": ("I want to report graffiti", {"surface": "bridge or overpass", "offensive": "no"}),
    "NOISE": ("I want to make a noise complaint", {"source": "construction", "happening_now": "yes"}),
    "ILLEGAL_DUMPING": ("someone dumped an old mattress in the alley", {"material": "furniture or mattress"}),
    "ABANDONED_VEHICLE": (
        "there's an abandoned car on my street",
        {"plate": "ABC 1234", "days_parked": "about two weeks"},
    ),
    "FALLEN_TREE": ("a big tree branch fell down", {"blocking": "sidewalk"}),
    "WATER_LEAK": ("water is leaking from the street", {"source": "fire hydrant"}),
}

FAQ_LINES = (
    "when is city hall open?",
    "what day is my garbage picked up?",
    "can I recycle pizza boxes?",
    "how do I pay a parking ticket?",
    "how do I get rid of an old couch?",
    "when is yard waste collected?",
    "how do I contest a parking ticket?",
    "when does the street sweeper come?",
    "where is city hall?",
    "do plastic bags go in the recycling?",
)

# City questions asked in the middle of a report: none of them could also be an
# answer to a report's question ("when is yard waste collected?" could: a bin).
MID_REPORT_QUESTIONS = ("when is city hall open?", "how do I pay a parking ticket?", "where is city hall?")

# What residents say when asked to describe the problem.
DESCRIPTIONS = (
    "It has been like this for about a week, right next to the bus stop.",
    "Been like that since Monday, near the corner by the bakery",
    "it's right in front of the school and kids walk past it every day",
    "started a few days ago, you can't miss it",
)

OUT_OF_SCOPE_LINES = (
    "can you recommend a good pasta recipe",
    "what's the weather like in Miami",
    "tell me a funny story",
    "what's the best phone to buy this year",
    "book a hotel in Boston",
)

STREETS = ("Elm Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Birch Road", "Walnut Street")

UNKNOWN_REQUEST_ID = "987654"

# The long conversation repeats these ten turns; turns 10-19 and 200-209 say the
# same things, so the two windows differ only by the conversation's length.
LONG_CYCLE = (
    "hello",
    FAQ_LINES[0],
    FAQ_LINES[1],
    "are you a robot?",
    FAQ_LINES[2],
    "what's the status of request {request_id}",
    FAQ_LINES[3],
    "thanks",
    FAQ_LINES[4],
    "what can you do?",
)
