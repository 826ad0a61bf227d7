"""A long story is also read sentence by sentence; a story not understood as a whole but whose
sentences describe one city problem becomes that problem's report."""

from __future__ import annotations

from typing import Dict, List

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_ext.long_messages import SENTENCE_OF, ReportFromSentences, SentencesOfLongMessages, sentences

STORY = (
    "We moved in last month and a van is parked in front of our place on Elm St. and never moves. "
    "The tires are flat and the back window is broken. It looks abandoned to me. "
    "Can the city tow it away? We live on S. Highland Avenue."
)


def test_sentences_end_at_their_punctuation_but_not_after_an_initial_or_a_street_abbreviation() -> None:
    assert sentences(STORY) == [
        "We moved in last month and a van is parked in front of our place on Elm St. and never moves.",
        "The tires are flat and the back window is broken.",
        "It looks abandoned to me.",
        "Can the city tow it away?",
        "We live on S. Highland Avenue.",
    ]
    assert sentences("¡Hay un bache enorme! ¿Cuándo lo arreglan?") == ["¡Hay un bache enorme!", "¿Cuándo lo arreglan?"]
    assert sentences("I looked but couldn't. It is blue.") == ["I looked but couldn't.", "It is blue."]


def splitter() -> SentencesOfLongMessages:
    return SentencesOfLongMessages(SentencesOfLongMessages.get_default_config())


def test_each_sentence_of_a_long_message_is_added_after_the_messages_and_points_back_to_its_message() -> None:
    short, story = Message(data={"text": "pothole on Elm"}), Message(data={"text": STORY})
    messages = splitter().process([short, story])
    assert messages[:2] == [short, story]
    assert [(m.get("text"), m.get(SENTENCE_OF)) for m in messages[2:]] == [(s, 1) for s in sentences(STORY)]


@pytest.mark.parametrize(
    "text",
    [
        "there's a pothole on Elm. It's deep.",  # two sentences, too few words
        "a van has been parked in front of our house for months with flat tires and a broken window and nobody "
        "ever moves it at all",  # enough words, one sentence
        "/report_pothole" + " x." * 30,  # a button's payload
    ],
)
def test_short_messages_one_sentence_and_button_payloads_are_not_split(text: str) -> None:
    message = Message(data={"text": text})
    assert splitter().process([message]) == [message]


def classified(text: str, intent: str, confidence: float, **data: object) -> Message:
    message = Message(data={"text": text, **data})
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    return message


def merge(whole: Message, parts: List[Dict[str, float]]) -> Message:
    """Run ReportFromSentences on `whole` and its sentences classified as `parts` ({intent: confidence})."""
    sentence_messages = [
        classified(f"sentence {i}", name, confidence, **{SENTENCE_OF: 0})
        for i, part in enumerate(parts)
        for name, confidence in part.items()
    ]
    (merged,) = ReportFromSentences(ReportFromSentences.get_default_config()).process([whole, *sentence_messages])
    return merged


@pytest.mark.parametrize("not_understood", ["out_of_scope", "nlu_fallback"])
def test_a_story_not_understood_becomes_the_report_its_sentences_describe_most_surely(not_understood: str) -> None:
    merged = merge(
        classified(STORY, not_understood, 1.0),
        [
            {"report_abandoned_vehicle": 0.66},
            {"report_pothole": 0.7},
            {"report_abandoned_vehicle": 0.72},
            {"emergency": 1.0},  # a sentence alone never makes an emergency
            {"report_noise": 0.4},  # below the sentence threshold
        ],
    )
    assert merged.get("intent") == {"name": "report_abandoned_vehicle", "confidence": 0.72}
    assert [r["name"] for r in merged.get("intent_ranking")] == ["report_abandoned_vehicle", not_understood]


@pytest.mark.parametrize("understood", ["faq", "check_status", "emergency", "request_human"])
def test_a_story_understood_as_anything_but_a_report_keeps_its_own_intent(understood: str) -> None:
    merged = merge(classified(STORY, understood, 0.59), [{"report_abandoned_vehicle": 0.9}, {"report_pothole": 0.8}])
    assert merged.get("intent") == {"name": understood, "confidence": 0.59}


def ranked(text: str, ranking: Dict[str, float]) -> Message:
    """A message classified as `ranking`'s first intent, with that whole ranking."""
    message = Message(data={"text": text})
    (top, confidence), *_ = ranking.items()
    message.set("intent", {"name": top, "confidence": confidence})
    message.set("intent_ranking", [{"name": name, "confidence": c} for name, c in ranking.items()])
    return message


def test_a_story_read_as_one_report_whose_sentences_describe_another_becomes_that_one() -> None:
    whole = ranked(STORY, {"report_pothole": 0.63, "report_abandoned_vehicle": 0.29, "greet": 0.08})
    merged = merge(
        whole, [{"report_abandoned_vehicle": 0.87}, {"report_abandoned_vehicle": 0.66}, {"out_of_scope": 1.0}]
    )
    assert merged.get("intent") == {"name": "report_abandoned_vehicle", "confidence": 0.87}
    assert [r["name"] for r in merged.get("intent_ranking")] == ["report_abandoned_vehicle", "report_pothole", "greet"]


@pytest.mark.parametrize(
    "parts",
    [
        [{"report_pothole": 0.9}, {"report_abandoned_vehicle": 0.62}],  # its sentences agree more with it
        [{"report_abandoned_vehicle": 0.62}],  # one sentence, less sure than the whole message
        [{"report_abandoned_vehicle": 0.55}, {"report_abandoned_vehicle": 0.58}],  # no sentence sure enough
        [{"faq": 0.99}, {"thank": 0.95}],  # no sentence a report
    ],
)
def test_a_story_read_as_a_report_keeps_it_unless_its_sentences_outweigh_it(parts: List[Dict[str, float]]) -> None:
    whole = ranked(STORY, {"report_pothole": 0.8, "report_abandoned_vehicle": 0.1})
    assert merge(whole, parts).get("intent") == {"name": "report_pothole", "confidence": 0.8}


def test_a_tie_between_the_whole_message_and_its_sentences_goes_to_the_whole_message() -> None:
    whole = ranked(STORY, {"report_pothole": 0.7})
    assert merge(whole, [{"report_graffiti": 0.7}]).get("intent")["name"] == "report_pothole"


def test_a_story_whose_sentences_are_not_sure_of_any_report_stays_not_understood() -> None:
    merged = merge(classified(STORY, "out_of_scope", 1.0), [{"report_pothole": 0.55}, {"faq": 0.99}])
    assert merged.get("intent")["name"] == "out_of_scope"


def test_messages_without_sentences_pass_through_untouched() -> None:
    messages = [classified("hello", "greet", 0.99), classified("pothole", "report_pothole", 0.97)]
    assert ReportFromSentences(ReportFromSentences.get_default_config()).process(messages) == messages
