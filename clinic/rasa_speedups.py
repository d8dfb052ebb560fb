"""Speed fixes for Rasa 3.6.21 internals, applied when the Rasa server loads our tracker store.

Messages are understood (the NLU graph) in a thread of their own instead of on the server's event
loop: the sentence encoder, a third of a message's CPU, releases Python's lock while it computes,
so other conversations' turns go on meanwhile and the server uses both cores (bench/latency.py:
83 -> 105-115 messages/s with 16 senders).

The model's graphs are run in order by a plain loop instead of dask (SequentialGraphRunner): dask
re-plans and orders the graph on every run, twice a message, which cost about 0.8 ms of the 9 ms a
message took (py-spy on the live server), with the same results.

Domain.is_empty, asked once a message (MessageProcessor._check_for_unseen_features), serialises the
whole domain and builds an empty one to compare with (0.15 ms): the answer is kept on the domain,
which does not change once loaded.

RemoteAction._validate_action_result calls `jsonschema.validate`, which re-checks the (constant)
response schema against the JSON-Schema meta-schema on every call: 45-50 ms of CPU for every answer
from the action server, i.e. every session start and every turn of the contact form. Here the
response is validated against the same schema by a validator built once, with the same error.
"""
import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Tuple

import rasa.core.processor
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

# For each node to run, in an order where its inputs come first: its name and the nodes it needs.
Plan = List[Tuple[Text, Tuple[Text, ...]]]


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match

    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    if not isinstance(error, ValidationError):  # pragma: no cover - jsonschema always gives one
        raise error
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action "
        "endpoint is valid."
    )
    raise error


class SequentialGraphRunner(DaskGraphRunner):
    """Runs the nodes a target needs one after another, in an order planned once per set of targets.
    Nodes get their inputs exactly as dask gives them: the (name, output) pair of each node they need,
    or the bare name of an input the caller did not provide."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: Dict[Tuple[Text, ...], Plan] = {}

    def _plan(self, targets: Tuple[Text, ...]) -> Plan:
        plans = self._plans
        if targets not in plans:
            nodes = self._graph_schema.minimal_graph_schema(list(targets)).nodes
            plan: Plan = []
            planned: set = set()

            def visit(name: Text) -> None:
                if name in planned or name not in nodes:
                    return
                planned.add(name)
                needs = tuple(nodes[name].needs.values())
                for need in needs:
                    visit(need)
                plan.append((name, needs))

            for target in targets:
                visit(target)
            plans[targets] = plan
        return plans[targets]

    def run(self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = tuple(targets or self._graph_schema.target_names)
        # An input named like a node replaces that node, as it does in dask.
        outputs: Dict[Text, Any] = {name: (name, value) for name, value in (inputs or {}).items()}
        try:
            for name, needs in self._plan(run_targets):
                if name not in outputs:
                    outputs[name] = self._instantiated_nodes[name](*(outputs.get(need, need) for need in needs))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(outputs[target] for target in run_targets)


_domain_is_empty = Domain.is_empty


def domain_is_empty(self: Domain) -> bool:
    if "_is_empty" not in self.__dict__:
        self.__dict__["_is_empty"] = _domain_is_empty(self)
    return self.__dict__["_is_empty"]


# One thread, so the NLU components never run concurrently with themselves (none of them has to be
# thread-safe) while the event loop goes on with other conversations.
_NLU_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
_parse_message = MessageProcessor.parse_message


async def parse_message(
    self: MessageProcessor, message: UserMessage, tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> Dict[Text, Any]:
    """MessageProcessor.parse_message with the NLU graph run in the NLU thread. The conversation's
    lock is held meanwhile, so nothing else touches its tracker."""
    if self.http_interpreter:
        return await _parse_message(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    parse_data = await asyncio.get_running_loop().run_in_executor(
        _NLU_THREAD, self._parse_message_with_graph, message, tracker, only_output_properties)
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


def apply() -> None:
    Domain.is_empty = domain_is_empty  # type: ignore[method-assign]
    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    # The name the processor loads models with; training keeps dask.
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[misc]
