"""RulePolicy whose cost per turn does not grow with the conversation's length.

Rasa 3.6's RulePolicy turns the whole conversation into dialogue states before
every prediction (several per message): replaying every event and building a
state at every action since the session started. A rule, though, only looks at
the last few states: once a conversation is longer than the longest rule, the
earlier states cannot change which rule matches (`_is_rule_applicable` accepts
any state older than the rule). This policy builds only the states the longest
rule can see (plus one, so that a `conversation_start` rule still sees that the
conversation did not just start), and remembers, per conversation, how far it
replayed the events, so the next prediction replays only what is new. And it
reads each rule from its JSON key once, where RulePolicy parses every rule's
key again for every state it checks, at every prediction. The rules that
match a run of states are worked out once per distinct run (conversations go
through the same few states again and again) and remembered.

Predictions are exactly RulePolicy's; training is RulePolicy's own.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, Hashable, List, Optional, Set, Text, Tuple

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

# Conversations whose replay is remembered per Rasa process.
REPLAYS_KEPT = 5000
# Distinct runs of states whose matching rules are remembered per lookup table.
MATCHES_KEPT = 20000


@dataclass
class Replay:
    """How far a conversation's events were replayed, and the latest states seen on the way."""

    tracker: DialogueStateTracker  # the conversation as it was after `consumed` events
    consumed: int = 0
    last_event: Optional[Event] = None
    states: Deque[State] = field(default_factory=deque)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class RecentRulePolicy(RulePolicy):
    """RulePolicy that featurizes only the turns its rules can see."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._replays: "OrderedDict[Text, Replay]" = OrderedDict()
        self._states_needed: Optional[int] = None
        self._rule_states: Dict[Text, List[State]] = {}
        self._matches: "OrderedDict[Tuple[int, Hashable], frozenset]" = OrderedDict()

    def _rule_key_to_state(self, rule_key: Text) -> List[State]:
        """The rule's states, parsed from its JSON key once (RulePolicy parses every key at every check)."""
        states = self._rule_states.get(rule_key)
        if states is None:
            states = self._rule_states[rule_key] = RulePolicy._rule_key_to_state(rule_key)
        return states

    def _get_possible_keys(self, lookup: Dict[Text, Text], states: List[State]) -> Set[Text]:
        """RulePolicy's rule keys matching the states, remembered per distinct run of states."""
        frozen = frozen_states(states)
        if frozen is None:
            return super()._get_possible_keys(lookup, states)
        key = (id(lookup), frozen)
        found = self._matches.get(key)
        if found is None:
            found = frozenset(super()._get_possible_keys(lookup, states))
            self._matches[key] = found
            while len(self._matches) > MATCHES_KEPT:
                self._matches.popitem(last=False)
        else:
            self._matches.move_to_end(key)
        return set(found)

    def states_needed(self) -> int:
        """The longest rule's length plus one."""
        if self._states_needed is None:
            keys = list(self.lookup.get(RULES, {})) + list(self.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {}))
            self._states_needed = max((len(self._rule_key_to_state(key)) for key in keys), default=0) + 1
        return self._states_needed

    def _prediction_states(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        states = self.recent_states(tracker, domain)
        self.featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return states

    def recent_states(self, tracker: DialogueStateTracker, domain: Domain) -> List[State]:
        """The last `states_needed()` states of Tracker.past_states(domain), computed incrementally."""
        applied = tracker.applied_events()
        replay = self._replays.get(tracker.sender_id)
        if (
            replay is None
            or replay.consumed > len(applied)
            or (replay.consumed and applied[replay.consumed - 1] is not replay.last_event)
        ):
            # New to this process, or the events changed (a rewind): replay from the start.
            replay = Replay(tracker.init_copy())
        keep = self.states_needed()
        for event in applied[replay.consumed :]:
            if isinstance(event, ActionExecuted):
                replay.states.append(domain._clean_state(domain.get_active_state(replay.tracker)))
                if len(replay.states) > keep:
                    replay.states.popleft()
            replay.tracker.update(event)
        replay.consumed = len(applied)
        replay.last_event = applied[-1] if applied else None
        self._remember(tracker.sender_id, replay)
        states = list(replay.states) + [domain._clean_state(domain.get_active_state(replay.tracker))]
        # Deep enough copies: the caller edits the last state (the user's text or intent).
        return [{key: dict(value) for key, value in state.items()} for state in states[-keep:]]

    def _remember(self, sender_id: Text, replay: Replay) -> None:
        self._replays[sender_id] = replay
        self._replays.move_to_end(sender_id)
        while len(self._replays) > REPLAYS_KEPT:
            self._replays.popitem(last=False)


def frozen_states(states: List[State]) -> Optional[Hashable]:
    """The states as a hashable value, equal exactly when the states are equal (None: not hashable)."""
    try:
        frozen = tuple(
            tuple(sorted((kind, tuple(sorted(sub_state.items()))) for kind, sub_state in state.items()))
            for state in states
        )
        hash(frozen)
    except TypeError:  # a list or dict among the values
        return None
    return frozen
