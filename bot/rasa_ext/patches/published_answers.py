"""Patch: a response's text is the one staff published in the console, when they published one.

Rasa 3.6 answers with the texts the model was trained with; changing one
means retraining and restarting. Here each Rasa process reads the published
texts when it starts and then every ANSWERS_REFRESH_SECONDS
(bot/answers/published.py, in the background), and fills a response from
them: Rasa still picks the variation (the `language` condition, the channel),
keeps its buttons and fills its `{slot}` placeholders; only the text of the
variation for that language is the published one. A response nothing is
published for is Rasa's own, at the cost of one set lookup.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Dict, Optional, Text

from bot.answers.published import PUBLISHED, refresh_seconds
from bot.answers.responses import UNCONDITIONED, variation_language
from bot.i18n.languages import default_language
from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

GENERATE = "rasa.core.nlg.response.TemplatedNaturalLanguageGenerator.generate_from_slots"
LOAD_AGENT = "rasa.core.run.load_agent_on_start"
TASK_NAME = "citybot.published_answers"


def language_of(variation: Dict[str, Any]) -> Optional[str]:
    """The language a variation is for (the default's when unconditioned); None for any other condition."""
    language = variation_language(variation)
    return default_language() if language == UNCONDITIONED else language


def replacements() -> Dict[str, Any]:
    """generate_from_slots with the published text; load_agent_on_start also reading them and keeping them fresh."""
    import rasa.core.run
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    generate_from_slots = TemplatedNaturalLanguageGenerator.generate_from_slots
    load_agent_on_start = rasa.core.run.load_agent_on_start
    published = PUBLISHED

    def _generate_from_slots(
        self: TemplatedNaturalLanguageGenerator,
        utter_action: Text,
        filled_slots: Dict[Text, Any],
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        if utter_action not in published.responses:
            return generate_from_slots(self, utter_action, filled_slots, output_channel, **kwargs)
        variation = self._random_response_for(utter_action, output_channel, filled_slots)
        if variation is None:
            return None
        response = copy.deepcopy(variation)
        language = language_of(variation)
        text = published.text_for(utter_action, language) if language and "text" in variation else None
        if text is not None:
            response["text"] = text
        return self._fill_response(response, filled_slots, **kwargs)

    async def _load_agent_on_start(
        model_path: Text, endpoints: Any, remote_storage: Optional[Text], app: Any, loop: Any
    ) -> Any:
        agent = await load_agent_on_start(model_path, endpoints, remote_storage, app, loop)
        await published.refresh()
        app.add_task(published.keep_fresh(refresh_seconds()), name=TASK_NAME)
        return agent

    return {GENERATE: _generate_from_slots, LOAD_AGENT: _load_agent_on_start}


PATCH = Patch(
    name="published_answers",
    targets=(GENERATE, LOAD_AGENT),
    why=(
        "Rasa 3.6 answers only with the texts it was trained with: changing one means retraining.\n"
        "Each process reads the texts staff publish in the console every minute, off the event loop,\n"
        "and answers with them, on purpose a change of Rasa's behaviour (buttons, conditions and slots kept)."
    ),
    replacements=replacements,
)
