"""State a patch keeps about Rasa's objects (a processor's batcher, a tracker's applied events) outside them.

Kept by identity, so objects that compare equal (trackers, endpoint configs)
keep theirs apart, and dropped when the object is collected; the objects
themselves carry nothing of ours.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Dict, Generic, Optional, TypeVar

T = TypeVar("T")


class PerObject(Generic[T]):
    """A value for each live object, by identity."""

    def __init__(self) -> None:
        self._values: Dict[int, T] = {}

    def get(self, owner: Any) -> Optional[T]:
        return self._values.get(id(owner))

    def set(self, owner: Any, value: T) -> None:
        key = id(owner)
        if key not in self._values:
            weakref.finalize(owner, self._values.pop, key, None)
        self._values[key] = value

    def setdefault(self, owner: Any, make: Callable[[], T]) -> T:
        key = id(owner)
        if key not in self._values:
            self.set(owner, make())
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)
