"""Patch: the custom actions run inside the Rasa process when the action endpoint names their package.

Every custom action (a form's questions and validation included) was an HTTP
call to the action server: the call encoded as JSON, sent, decoded, run, and
the answer back the same way, on two busy event loops. With `actions_module`
in the action endpoint (Rasa Pro's key for the same idea), the Rasa SDK's
executor runs the package's actions in this process instead, on an event loop
of their own (`ActionLoop`). The call and the answer still go through JSON, so
an action sees what it would see from the action server and can change
nothing of Rasa's; the answer is checked against Rasa's schema and handled as
the remote one is, within the same time limit. Without the key, actions go to
the action server as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from typing import TYPE_CHECKING, Any, Coroutine, Dict, List, Optional, Text, TypeVar

from bot.rasa_ext.patches.endpoint_sessions import encode_json
from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.core.channels.channel import OutputChannel
    from rasa.core.nlg import NaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig
    from rasa_sdk.executor import ActionExecutor

logger = logging.getLogger(__name__)

TARGET = "rasa.core.actions.action.RemoteAction.run"
TARGETS = (TARGET,)
ACTIONS_MODULE = "actions_module"  # the action endpoint's key naming the package (as in Rasa Pro)

T = TypeVar("T")

_executors: Dict[str, "ActionExecutor"] = {}


def actions_module(endpoint: Optional["EndpointConfig"]) -> Optional[str]:
    """The package whose actions run in this process, or None: they go to the action server."""
    if endpoint is None:
        return None
    module = endpoint.kwargs.get(ACTIONS_MODULE)
    return module.strip() or None if isinstance(module, str) else None


def executor_for(module: str) -> "ActionExecutor":
    """The SDK's executor holding `module`'s actions, made (and the package imported) once per process."""
    executor = _executors.get(module)
    if executor is None:
        from rasa_sdk.executor import ActionExecutor

        executor = ActionExecutor()
        executor.register_package(module)
        _executors[module] = executor
    return executor


def load_actions(endpoints_file: str) -> None:
    """Import the package the endpoints file's action endpoint names, if any, before the server starts.

    A package that does not import stops the server at start (the SDK exits),
    not at a resident's first message; the forked workers share what was imported.
    """
    from rasa.utils.endpoints import read_endpoint_config

    module = actions_module(read_endpoint_config(endpoints_file, "action_endpoint"))
    if module is not None:
        executor_for(module)


def as_over_http(value: Any) -> Any:
    """`value` as the other side of an HTTP call reads it: a JSON copy sharing nothing (encoded as Rasa sends it)."""
    return json.loads(encode_json(value))


class DomainCopy:
    """The JSON copy of the latest domain sent, made once: Rasa sends the same domain dictionary with every call.

    The actions read the domain and never change it; were one to, it would
    change this copy (what later actions read), never Rasa's domain.
    """

    def __init__(self) -> None:
        self.original: Any = None
        self.copy: Any = None

    def of(self, domain: Any) -> Any:
        if domain is not self.original:
            self.original, self.copy = domain, as_over_http(domain)
        return self.copy


_domain_copy = DomainCopy()


def call_as_over_http(call: Dict[Text, Any]) -> Dict[Text, Any]:
    """An action call as the action server would read it, the domain copied once per domain."""
    copied = as_over_http({key: value for key, value in call.items() if key != "domain"})
    if "domain" in call:
        copied["domain"] = _domain_copy.of(call["domain"])
    return copied


class ActionLoop:
    """An event loop on a thread of its own in this process, where the actions run.

    The Rasa worker's own loop is busy parsing and predicting: an action awaiting
    the back office or the database there would resume only after whatever ran
    meanwhile, and hold the conversation's lock that long. On this loop it
    resumes at once; Rasa's loop awaits only the answer. What the actions keep
    between calls (HTTP clients, asyncio locks) belongs to this loop: code on
    Rasa's loop must not share it.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="custom-actions", daemon=True)
        self.thread.start()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """The coroutine's result, run on the actions' loop (cancelled there when the caller is)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))


_action_loop: Optional[ActionLoop] = None


def action_loop() -> ActionLoop:
    """This process's actions loop, started on first use (a forked worker starts its own)."""
    global _action_loop
    if _action_loop is None or _action_loop.pid != os.getpid():
        _action_loop = ActionLoop()
    return _action_loop


async def answer_to(executor: "ActionExecutor", call: Dict[Text, Any]) -> Dict[Text, Any]:
    """The executor's answer to `call`, as JSON reads it (run on the actions' loop)."""
    return as_over_http(await executor.run(call) or {})


async def run_in_process(module: str, call: Dict[Text, Any]) -> Dict[Text, Any]:
    """The answer the action server would give `call`, or the exception Rasa raises for its refusal.

    A rejection stays a rejection (a form then lets other policies act), an
    unknown action or a failure becomes RasaException. The failure's own message
    and traceback stay out of the log: they may quote what a resident wrote.
    """
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.shared.exceptions import RasaException
    from rasa_sdk.interfaces import ActionExecutionRejection as Rejected
    from rasa_sdk.interfaces import ActionNotFoundException

    name = call["next_action"]
    running = action_loop().run(answer_to(executor_for(module), call_as_over_http(call)))
    try:
        answer = await asyncio.wait_for(running, DEFAULT_REQUEST_TIMEOUT)
    except Rejected as rejection:
        raise ActionExecutionRejection(rejection.action_name, rejection.message) from None
    except ActionNotFoundException:
        raise RasaException(f"No registered action found for name '{name}'.") from None
    except asyncio.TimeoutError:
        logger.error("custom action %s took over %s s", name, DEFAULT_REQUEST_TIMEOUT)
        raise RasaException(f"Failed to execute custom action '{name}'") from None
    except Exception as error:
        logger.error("custom action %s failed (%s)", name, type(error).__name__)
        raise RasaException(f"Failed to execute custom action '{name}'") from None
    return answer


def replacements() -> Dict[str, Any]:
    """RemoteAction.run running the actions here when the endpoint names their package."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core import events

    remote_run = RemoteAction.run

    async def run(
        self: RemoteAction,
        output_channel: "OutputChannel",
        nlg: "NaturalLanguageGenerator",
        tracker: "DialogueStateTracker",
        domain: "Domain",
    ) -> List["Event"]:
        module = actions_module(self.action_endpoint)
        if module is None:
            return await remote_run(self, output_channel, nlg, tracker, domain)
        answer = await run_in_process(module, self._action_call_format(tracker, domain))
        self._validate_action_result(answer)
        messages = await self._utter_responses(answer.get("responses", []), output_channel, nlg, tracker)
        return [*messages, *events.deserialise_events(answer.get("events", []))]

    return {TARGET: run}


PATCH = Patch(
    name="in_process_actions",
    targets=TARGETS,
    why=(
        "Every custom action was an HTTP call to the action server, encoded and decoded on two event loops.\n"
        "With actions_module in the action endpoint, the SDK's executor runs them in the Rasa process."
    ),
    replacements=replacements,
)
