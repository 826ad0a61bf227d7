"""The domain-emptiness patch gives Rasa's answer without building the domain twice a message."""

from __future__ import annotations

from unittest import mock

from rasa.shared.core.domain import Domain

from bot.rasa_ext.patches import domain_emptiness, patched

DOMAINS = {
    "empty": {},
    "intents only": {"version": "3.1", "intents": ["greet"]},
    "one response": {"version": "3.1", "responses": {"utter_hi": [{"text": "Hi"}]}},
    "the project's": None,
}


def domain_of(name: str) -> Domain:
    data = DOMAINS[name]
    return Domain.load("domain.yml") if data is None else Domain.from_dict(data)


def test_the_same_answer_as_rasa_for_every_kind_of_domain() -> None:
    rasa_answers = {name: domain_of(name).is_empty() for name in DOMAINS}
    with patched(domain_emptiness.PATCH):
        assert {name: domain_of(name).is_empty() for name in DOMAINS} == rasa_answers
    assert rasa_answers["empty"] and not rasa_answers["one response"] and not rasa_answers["the project's"]


def test_a_domain_with_responses_is_not_turned_into_a_dictionary() -> None:
    domain = domain_of("the project's")
    with patched(domain_emptiness.PATCH), mock.patch.object(Domain, "as_dict", side_effect=AssertionError):
        assert domain.is_empty() is False
