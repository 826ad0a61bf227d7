"""Patch: action server answers checked against Rasa's schema without re-checking the schema each time.

Every answer of the action server was checked with `jsonschema.validate`, which
first validates the schema itself against the JSON Schema meta-schema, on
every call: much of the server's time during a report. Here the schema is checked once,
and each event only against its own type's part of it (`ActionResultValidator`);
answers are still validated, with the same errors (tests/unit/rasa_ext/test_rasa_server.py).
"""

from __future__ import annotations

from typing import Any, Dict, Text

from bot.rasa_ext.patches.registry import Patch

TARGET = "rasa.core.actions.action.RemoteAction._validate_action_result"
TARGETS = (TARGET,)


class ActionResultValidator:
    """Checks action server answers against Rasa's schema, each event against its own type's part only.

    Rasa's schema says an event must match exactly one of 23 alternatives
    (`oneOf`), one per event type, each fixing the `event` name. jsonschema
    therefore tries all 23 on every event and builds an error for each of the
    22 that do not apply. Here an event is checked against the base schema and
    the one alternative of its type: the others cannot match (their `event`
    differs), so it is valid exactly when that one matches. An answer that
    fails is checked again with the full schema, for Rasa's own error.
    """

    def __init__(self, schema: Dict[Text, Any]) -> None:
        from jsonschema.validators import validator_for

        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        self.full = validator_class(schema)
        events = schema["properties"]["events"]["items"]
        base = {key: value for key, value in events.items() if key != "oneOf"}
        self.by_type: Dict[str, Any] = {}
        for alternative in events["oneOf"]:
            name = alternative["properties"]["event"]["const"]
            if name in self.by_type:
                raise ValueError(f"Two alternatives for the event type {name!r}: the shortcut would not hold.")
            self.by_type[name] = validator_class({"allOf": [base, alternative]})
        without_events = dict(schema, properties=dict(schema["properties"], events={"type": "array"}))
        self.outer = validator_class(without_events)

    def is_valid_quickly(self, result: Any) -> bool:
        if not self.outer.is_valid(result):
            return False
        for event in result.get("events") or []:
            name = event.get("event") if isinstance(event, dict) else None
            check = self.by_type.get(name) if isinstance(name, str) else None
            if check is None or not check.is_valid(event):
                return False
        return True

    def validate(self, result: Any) -> None:
        """Raise jsonschema's ValidationError for an invalid answer, as `jsonschema.validate` does."""
        from jsonschema.exceptions import best_match

        if not self.is_valid_quickly(result):
            error = best_match(self.full.iter_errors(result))
            if error is not None:
                raise error


def replacements() -> Dict[str, Any]:
    """RemoteAction._validate_action_result through `ActionResultValidator`."""
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validator = ActionResultValidator(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error

    return {TARGET: _validate_action_result}


PATCH = Patch(
    name="action_results",
    targets=TARGETS,
    why=(
        "Rasa validates every action server answer with `jsonschema.validate`, checking the schema itself each time.\n"
        "The schema is checked once and each event only against its own type's part, with the same errors."
    ),
    replacements=replacements,
)
