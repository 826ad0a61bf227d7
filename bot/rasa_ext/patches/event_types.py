"""Patch: a stored event's class looked up once per type name.

Every stored event is turned back into its class by scanning all subclasses of
`Event` (with `inspect.isabstract` on each), a cost that grows with the
conversation. Here the mapping from type name to class is built once per name;
unknown names get Rasa's own answer.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Dict, Optional, Text, Type

from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.shared.core.events import Event

TARGET = "rasa.shared.core.events.Event.resolve_by_type"
TARGETS = (TARGET,)


def replacements() -> Dict[str, Any]:
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

    return {TARGET: staticmethod(resolve_by_type)}


PATCH = Patch(
    name="event_types",
    targets=TARGETS,
    why=(
        "Rasa turns each stored event back into its class by scanning every subclass of `Event`.\n"
        "Each type name's class is looked up once and remembered."
    ),
    replacements=replacements,
)
