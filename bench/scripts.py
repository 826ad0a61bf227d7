"""What the simulated residents say, conversation by conversation, in each language.

`SCRIPTS` holds what residents of one language say; `MARKERS` the words that
show an answer is the one the conversation expects, in the language the
assistant answers in (stock Rasa has no language access: it answers every
resident in English, so its residents are checked against the English markers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple


@dataclass(frozen=True)
class Scripts:
    """Everything one language's residents say."""

    # How a resident opens each report, and their answer to each of the service's
    # questions (keyed by attribute code).
    reports: Dict[str, Tuple[str, Dict[str, str]]]
    faq_lines: Tuple[str, ...]
    # City questions asked in the middle of a report: none of them could also be
    # an answer to a report's question ("when is yard waste collected?" could: a bin).
    mid_report_questions: Tuple[str, ...]
    # What residents say when asked to describe the problem.
    descriptions: Tuple[str, ...]
    out_of_scope_lines: Tuple[str, ...]
    greeting: str
    short_greeting: str
    bot_question: str
    thanks: str
    bye: str
    skip: str
    yes: str
    status_question: str  # with {request_id}
    check_on_report: str
    ask_person: str


@dataclass(frozen=True)
class Markers:
    """Words of the assistant's answers in one language, showing the conversation went as scripted."""

    location_question: str
    description_question: str
    contact_question: str
    summary: str
    request_number: str  # a regular expression whose group 1 is the city's request number
    reference: str  # the same for the assistant's own reference
    request_status: str  # with {request_id}
    request_id_question: str


ENGLISH = Scripts(
    reports={
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
    },
    faq_lines=(
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
    ),
    mid_report_questions=("when is city hall open?", "how do I pay a parking ticket?", "where is city hall?"),
    descriptions=(
        "It has been like this for about a week, right next to the bus stop.",
        "Been like that since Monday, near the corner by the bakery",
        "it's right in front of the school and kids walk past it every day",
        "started a few days ago, you can't miss it",
    ),
    out_of_scope_lines=(
        "can you recommend a good pasta recipe",
        "what's the weather like in Miami",
        "tell me a funny story",
        "what's the best phone to buy this year",
        "book a hotel in Boston",
    ),
    greeting="hello",
    short_greeting="hi",
    bot_question="are you a robot?",
    thanks="thanks!",
    bye="bye",
    skip="skip",
    yes="yes",
    status_question="what's happening with my request {request_id}?",
    check_on_report="can you check on my report?",
    ask_person="I want to talk to a real person",
)

SPANISH = Scripts(
    reports={
        "POTHOLE": ("quiero reportar un bache", {"size": "es grande", "lane": "ciclovía"}),
        "SIDEWALK": ("la banqueta enfrente de mi casa está rota", {"hazard": "levantada"}),
        "MISSED_TRASH": ("hoy no pasaron por la basura", {"bin_type": "reciclaje", "set_out_on_time": "sí"}),
        "STREETLIGHT": (
            "la luz de la calle de mi cuadra está apagada",
            {"problem": "parpadea", "pole_number": "omitir"},
        ),
        "GRAFFITI": ("quiero reportar un grafiti", {"surface": "puente", "offensive": "no"}),
        "NOISE": ("quiero poner una queja por ruido", {"source": "construcción", "happening_now": "sí"}),
        "ILLEGAL_DUMPING": ("alguien tiró un colchón viejo en el callejón", {"material": "muebles o colchón"}),
        "ABANDONED_VEHICLE": (
            "hay un carro abandonado en mi calle",
            {"plate": "ABC 1234", "days_parked": "como dos semanas"},
        ),
        "FALLEN_TREE": ("se cayó una rama grande de un árbol", {"blocking": "acera"}),
        "WATER_LEAK": ("sale agua de la calle", {"source": "hidrante"}),
    },
    faq_lines=(
        "¿a qué hora abre el ayuntamiento?",
        "qué día pasa la basura?",
        "se pueden reciclar las cajas de pizza?",
        "cómo pago una multa de estacionamiento?",
        "cómo me deshago de un sillón viejo?",
        "cuándo recogen los desechos de jardín?",
        "cómo apelo una multa de estacionamiento?",
        "cuándo pasa la barredora de calles?",
        "dónde queda el ayuntamiento?",
        "las bolsas de plástico van en el reciclaje?",
    ),
    mid_report_questions=(
        "¿a qué hora abre el ayuntamiento?",
        "cómo pago una multa de estacionamiento?",
        "dónde queda el ayuntamiento?",
    ),
    descriptions=(
        "Lleva así como una semana, justo al lado de la parada del camión.",
        "está así desde el lunes, cerca de la esquina de la panadería",
        "está enfrente de la escuela y los niños pasan por ahí todos los días",
        "empezó hace unos días, no se puede no ver",
    ),
    out_of_scope_lines=(
        "me recomiendas una buena receta de pasta",
        "cómo está el clima en Miami",
        "cuéntame un chiste",
        "cuál es el mejor celular para comprar este año",
        "resérvame un hotel en Boston",
    ),
    greeting="hola",
    short_greeting="buenas",
    bot_question="eres un robot?",
    thanks="¡gracias!",
    bye="adiós",
    skip="omitir",
    yes="sí",
    status_question="cómo va mi solicitud {request_id}?",
    check_on_report="me puede decir cómo va mi reporte?",
    ask_person="quiero hablar con una persona de verdad",
)

SCRIPTS: Dict[str, Scripts] = {"en": ENGLISH, "es": SPANISH}

MARKERS: Dict[str, Markers] = {
    "en": Markers(
        location_question="Where is it?",
        description_question="describe the problem",
        contact_question="updates",
        summary="Here's your report",
        request_number=r"request number is (\w[\w-]*)",
        reference=r"reference (R-[A-Z0-9]+)",
        request_status="Request {request_id}",
        request_id_question="request number",
    ),
    "es": Markers(
        location_question="¿Dónde está?",
        description_question="describa el problema",
        contact_question="recibir noticias",
        summary="Este es su reporte:",
        request_number=r"número de solicitud es (\w[\w-]*)",
        reference=r"referencia (?:es )?(R-[A-Z0-9]+)",
        request_status="La solicitud {request_id}",
        request_id_question="número de la solicitud",
    ),
}

STREETS = ("Elm Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Birch Road", "Walnut Street")

UNKNOWN_REQUEST_ID = "987654"

# The long conversation repeats these ten turns (in English); turns 10-19 and
# 200-209 say the same things, so the two windows differ only by the conversation's length.
LONG_CYCLE = (
    "hello",
    ENGLISH.faq_lines[0],
    ENGLISH.faq_lines[1],
    "are you a robot?",
    ENGLISH.faq_lines[2],
    "what's the status of request {request_id}",
    ENGLISH.faq_lines[3],
    "thanks",
    ENGLISH.faq_lines[4],
    "what can you do?",
)
