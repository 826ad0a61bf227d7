"""Patch: whether the domain is empty, answered without rebuilding it.

Rasa asks it of every parsed message (`MessageProcessor._check_for_unseen_features`)
and answers by turning the whole domain into a dictionary and comparing it with
an empty domain built anew for the purpose. A domain with responses is not
empty (the empty domain has none), which settles it at once; any other domain
gets Rasa's own answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.shared.core.domain import Domain

TARGET = "rasa.shared.core.domain.Domain.is_empty"
TARGETS = (TARGET,)


def replacements() -> Dict[str, Any]:
    """Domain.is_empty with the short answer for a domain that has responses."""
    from rasa.shared.core.domain import Domain

    rasa_is_empty = Domain.is_empty

    def is_empty(self: "Domain") -> bool:
        if self.responses:
            return False
        return rasa_is_empty(self)

    return {TARGET: is_empty}


PATCH = Patch(
    name="domain_emptiness",
    targets=TARGETS,
    why=(
        "Rasa checks every parsed message's domain for emptiness by building the whole domain as a dictionary\n"
        "and an empty domain to compare it with. A domain with responses is not empty: answered at once."
    ),
    replacements=replacements,
)
