"""The Rasa server as citybot runs it: `rasa` itself, with two hot spots of Rasa 3.6 fixed.

Run as `python -m bot.rasa_server run ...` with the arguments of `rasa run`.
Profiling the server under load (py-spy, see README "Speed") showed two
costs that come from how Rasa 3.6 does things, not from the work itself:

- Every answer of the action server is checked against Rasa's JSON schema with
  `jsonschema.validate`, which first validates the schema itself against the
  JSON Schema meta-schema: about half of the server's time during a report.
  Here the schema is checked once and its validator reused; answers are still
  validated, with the same errors.
- Every stored event is turned back into its class by scanning all subclasses
  of `Event` (with `inspect.isabstract` on each): a fifth of a long
  conversation's time. Here the mapping from type name to class is built once
  per name.

Both keep Rasa's behaviour; they are applied before Rasa starts, once.
"""
from __future__ import annotations

import functools
import sys
from typing import Any, Dict, Optional, Text, Type


def validate_action_results_with_a_compiled_schema() -> None:
    """RemoteAction._validate_action_result with the schema compiled once."""
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

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

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]


def resolve_event_types_once() -> None:
    """Event.resolve_by_type remembering each type name's class."""
    from rasa.shared.core.events import Event

    resolve = Event.resolve_by_type

    @functools.lru_cache(maxsize=None)
    def known_class(type_name: Text) -> Optional[Type[Event]]:
        try:
            return resolve(type_name)
        except ValueError:
            return None

    def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        found = known_class(type_name)
        if found is not None:
            return found
        return resolve(type_name, default)  # unknown names: Rasa's own answer (default, None or ValueError)

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]


def apply() -> None:
    validate_action_results_with_a_compiled_schema()
    resolve_event_types_once()


def main() -> None:
    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
