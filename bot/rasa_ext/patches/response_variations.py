"""Patch: a response's variation picked with `random.choice`.

Rasa picks one of a response's variations with `numpy.random.choice`, which
first turns the list of variations (dicts) into a NumPy object array: more
than the rest of writing the answer. The pick is as random.
"""

from __future__ import annotations

import random
from typing import Any, Dict, Optional, Text

from bot.rasa_ext.patches.registry import Patch

TARGET = "rasa.core.nlg.response.TemplatedNaturalLanguageGenerator._random_response_for"
TARGETS = (TARGET,)


def replacements() -> Dict[str, Any]:
    """TemplatedNaturalLanguageGenerator._random_response_for picking with `random.choice`."""
    from rasa.core.nlg.generator import ResponseVariationFilter
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    def _random_response_for(
        self: TemplatedNaturalLanguageGenerator, utter_action: Text, output_channel: Text, filled_slots: Dict[Text, Any]
    ) -> Optional[Dict[Text, Any]]:
        if utter_action not in self.responses:
            return None
        suitable = ResponseVariationFilter(self.responses).responses_for_utter_action(
            utter_action, output_channel, filled_slots
        )
        return random.choice(suitable) if suitable else None

    return {TARGET: _random_response_for}


PATCH = Patch(
    name="response_variations",
    targets=TARGETS,
    why=(
        "Rasa picks a response variation with `numpy.random.choice`, turning the variations into an array first.\n"
        "`random.choice` picks as randomly, without the array."
    ),
    replacements=replacements,
)
