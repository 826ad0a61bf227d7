"""The Rasa server as citybot runs it: `rasa` itself, with hot spots of Rasa 3.6 fixed.

Run as `python -m bot.rasa_server run ...` with the arguments of `rasa run`.
Profiling the server under load (py-spy, see README "Speed and scale") showed
costs that come from how Rasa 3.6 does things, not from the work itself:

- Every answer of the action server is checked against Rasa's JSON schema with
  `jsonschema.validate`, which first validates the schema itself against the
  JSON Schema meta-schema: about half of the server's time during a report.
  Here the schema is checked once, and each event only against its own type's
  part of it (`ActionResultValidator`); answers are still validated, with the
  same errors.
- A response's variation was picked with `numpy.random.choice`, which turns
  the variations into an array first; `random.choice` picks as randomly.
- Every stored event is turned back into its class by scanning all subclasses
  of `Event` (with `inspect.isabstract` on each): a fifth of a long
  conversation's time. Here the mapping from type name to class is built once
  per name.
- Before every action, Rasa copies the conversation's tracker by replaying
  every event of the conversation into a new one: a turn cost more the longer
  the conversation. Here the copy takes the tracker's current state directly
  (the same state the replay reaches: tests/test_rasa_server.py checks it).
- Rasa works out the events that still apply (without those a rewind or a
  form took back) from the first event of the conversation, several times a
  turn. Here each tracker remembers the result and applies only the events
  added since (again the same list: tests/test_rasa_server.py).
- Every call to the action server carried every event of the conversation,
  serialized, sent and parsed again on the other side. The actions read only
  the latest turns (the slots, the latest message and the active form travel
  separately, as always), so a call carries the events of the last
  `ACTION_TRACKER_USER_TURNS` user turns (default 5; 0 sends them all).
- Every call to the action server opened a new HTTP session and a new TCP
  connection. Here each endpoint keeps one session, whose connections are
  reused while they are fresh.

And the NLU's own overheads (bot/nlu_speed.py), messages arriving together
parsed together (bot/nlu_batching.py), and dask's around every graph run
(bot/graph_runner.py).

All keep Rasa's behaviour; they are applied before Rasa starts, once. One
patch changes it on purpose: a message to a conversation paused for city staff
is answered by `action_handoff_waiting` instead of nothing (bot/handoff/paused.py).
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import random
import sys
from collections import deque
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Text, Type

from bot.settings import settings

if TYPE_CHECKING:
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

DEFAULT_ACTION_TRACKER_USER_TURNS = 5


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


def validate_action_results_quickly() -> None:
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


def choose_response_variations_with_random() -> None:
    """TemplatedNaturalLanguageGenerator._random_response_for picking with `random.choice`.

    Rasa picks one of a response's variations with `numpy.random.choice`, which
    first turns the list of variations (dicts) into a NumPy object array: more
    than the rest of writing the answer. The pick is as random.
    """
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

    TemplatedNaturalLanguageGenerator._random_response_for = _random_response_for  # type: ignore[assignment]


def tracker_copy(tracker: "DialogueStateTracker") -> "DialogueStateTracker":
    """The tracker that `tracker.travel_back_in_time(inf)` would rebuild, without the replay.

    Like Rasa's copy, the new tracker has its own events, slots, active loop and
    latest action, shares the (immutable) events themselves, and does not carry
    the model and assistant ids or the sender source.
    """
    from rasa.shared.constants import DEFAULT_SENDER_ID

    duplicate = copy.copy(tracker)
    duplicate.__dict__.pop(APPLIED_CACHE, None)
    duplicate.events = deque(tracker.events, tracker.events.maxlen)
    duplicate.slots = type(tracker.slots)()
    duplicate.slots.update({name: copy.copy(slot) for name, slot in tracker.slots.items()})
    if tracker.active_loop is not None:
        duplicate.active_loop = dataclasses.replace(tracker.active_loop)
    if tracker.latest_action is not None:
        duplicate.latest_action = dict(tracker.latest_action)
    duplicate.sender_id = tracker.sender_id or DEFAULT_SENDER_ID
    duplicate.sender_source = None
    duplicate.model_id = None
    duplicate.assistant_id = None
    return duplicate


APPLIED_CACHE = "_citybot_applied_events"


@dataclasses.dataclass
class AppliedEvents:
    """What `applied_events` found for the first `count` events of a tracker."""

    events: Any  # the tracker's deque the result belongs to
    count: int
    first: Any  # events[0] and events[count - 1] when it was computed
    last: Any
    loop_names: frozenset
    applied: List["Event"]

    def still_fits(self, events: Any) -> bool:
        """The tracker's events are the ones seen, with at most some appended."""
        if events is not self.events or len(events) < self.count:
            return False
        return self.count == 0 or (events[0] is self.first and events[self.count - 1] is self.last)


def _loop_names(events: Any) -> frozenset:
    from rasa.shared.core.events import ActiveLoop

    return frozenset(event.name for event in events if isinstance(event, ActiveLoop) and event.name)


def _apply(tracker: "DialogueStateTracker", event: "Event", loop_names: frozenset, applied: List["Event"]) -> List["Event"]:
    """One step of Rasa 3.6's DialogueStateTracker.applied_events, with Rasa's own helpers."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SessionStarted,
        UserUttered,
        UserUtteranceReverted,
    )

    if isinstance(event, (Restarted, SessionStarted)):
        return []
    if isinstance(event, ActionReverted):
        tracker._undo_till_previous(ActionExecuted, applied)
    elif isinstance(event, UserUtteranceReverted):
        tracker._undo_till_previous(UserUttered, applied)
        tracker._undo_till_previous(ActionExecuted, applied)
    elif (
        isinstance(event, ActionExecuted)
        and event.action_name in loop_names
        and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
    ):
        tracker._undo_till_previous_loop_execution(event.action_name, applied)
    else:
        applied.append(event)
    return applied


def applied_events(tracker: "DialogueStateTracker") -> List["Event"]:
    """DialogueStateTracker.applied_events, computed for the events added since the last call."""
    events = tracker.events
    cached: Optional[AppliedEvents] = tracker.__dict__.get(APPLIED_CACHE)
    if cached is not None and cached.still_fits(events):
        added = [events[index] for index in range(cached.count, len(events))]
        if not _loop_names(added) <= cached.loop_names:
            cached = None  # a form seen for the first time changes how earlier events count
    else:
        cached = None
    if cached is None:
        cached = AppliedEvents(events, 0, None, None, _loop_names(events), [])
        added = list(events)
    for event in added:
        cached.applied = _apply(tracker, event, cached.loop_names, cached.applied)
    if added:
        cached.count, cached.first, cached.last = len(events), events[0], events[-1]
    tracker.__dict__[APPLIED_CACHE] = cached
    return list(cached.applied)


def remember_applied_events() -> None:
    """DialogueStateTracker.applied_events as `applied_events`."""
    from rasa.shared.core.trackers import DialogueStateTracker

    DialogueStateTracker.applied_events = applied_events  # type: ignore[assignment]


def copy_trackers_without_replay() -> None:
    """DialogueStateTracker.copy as `tracker_copy`."""
    from rasa.shared.core.trackers import DialogueStateTracker

    DialogueStateTracker.copy = tracker_copy  # type: ignore[assignment]


def action_tracker_user_turns() -> int:
    """How many of the latest user turns' events an action server call carries (0: all)."""
    value = settings().action_tracker_user_turns
    return value if value is not None else DEFAULT_ACTION_TRACKER_USER_TURNS


def recent_events(tracker: "DialogueStateTracker", user_turns: int) -> List["Event"]:
    """The events from the `user_turns`-th latest user message on (all of them if fewer)."""
    from rasa.shared.core.events import UserUttered

    if user_turns <= 0:
        return list(tracker.events)
    seen = 0
    for index, event in enumerate(reversed(tracker.events), start=1):
        if isinstance(event, UserUttered):
            seen += 1
            if seen == user_turns:
                events = list(tracker.events)
                return events[len(events) - index:]
    return list(tracker.events)


def send_recent_events_to_actions() -> None:
    """RemoteAction._action_call_format carrying the latest user turns' events only."""
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity

    user_turns = action_tracker_user_turns()
    if user_turns <= 0:
        return

    def _action_call_format(self: RemoteAction, tracker: "DialogueStateTracker", domain: Any) -> Dict[Text, Any]:
        # Rasa 3.6's own method, but for the events.
        tracker_state = tracker.current_state(EventVerbosity.NONE)
        tracker_state["events"] = [event.as_dict() for event in recent_events(tracker, user_turns)]
        result = {
            "next_action": self._name,
            "sender_id": tracker.sender_id,
            "tracker": tracker_state,
            "version": rasa.__version__,
        }
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    RemoteAction._action_call_format = _action_call_format  # type: ignore[assignment]


# Idle connections to the action server are dropped before its Sanic server
# would drop them (KEEP_ALIVE_TIMEOUT, 5 s by default), so none is reused as it closes.
KEPT_ALIVE_S = 2.0


# The sessions kept open, closed when the server stops.
OPEN_SESSIONS: List[Any] = []


def keep_connections_to_endpoints() -> None:
    """EndpointConfig.session kept open per endpoint and event loop; closed when the server stops."""
    import asyncio

    import aiohttp
    import rasa.core.run
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    def session(self: EndpointConfig) -> contextlib.nullcontext:
        # Rasa uses the session in `async with`: a nullcontext leaves it open for the next request.
        loop = asyncio.get_running_loop()
        sessions: Dict[Any, aiohttp.ClientSession] = self.__dict__.setdefault("_citybot_sessions", {})
        kept = sessions.get(loop)
        if kept is None or kept.closed:
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
            kept = sessions[loop] = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEPT_ALIVE_S),
            )
            OPEN_SESSIONS.append(kept)
        return contextlib.nullcontext(kept)

    close_resources = rasa.core.run.close_resources

    async def close_resources_and_sessions(app: Any, loop: Any) -> None:
        try:
            await close_resources(app, loop)
        finally:
            while OPEN_SESSIONS:
                await OPEN_SESSIONS.pop().close()

    EndpointConfig.session = session  # type: ignore[assignment]
    rasa.core.run.close_resources = close_resources_and_sessions  # type: ignore[assignment]



def apply() -> None:
    from bot import graph_runner, nlu_batching, nlu_speed, rasa_api_auth
    from bot.handoff import paused

    rasa_api_auth.require_api_token()
    graph_runner.run_graphs_in_order()
    nlu_speed.apply()
    nlu_batching.apply()
    validate_action_results_quickly()
    resolve_event_types_once()
    choose_response_variations_with_random()
    copy_trackers_without_replay()
    remember_applied_events()
    send_recent_events_to_actions()
    keep_connections_to_endpoints()
    paused.answer_paused_conversations()


def with_api_token(argv: List[str], token: Optional[str]) -> List[str]:
    """`rasa run` arguments given the API token from the environment (kept out of the process list).

    With the API enabled and no token at all, the server refuses to start: an
    open API would hand every resident's conversation to anyone.
    """
    if "--enable-api" not in argv or "--auth-token" in argv or "--jwt-secret" in argv:
        return argv
    if not token:
        raise SystemExit("RASA_API_TOKEN is not set: refusing to serve the Rasa HTTP API without a token.")
    return [*argv, "--auth-token", token]


def main() -> None:
    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv = with_api_token(["rasa", *sys.argv[1:]], settings().rasa_api_token)
    rasa_main()


if __name__ == "__main__":
    main()
