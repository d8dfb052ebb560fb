"""Rasa's RulePolicy, reading only as much of the conversation as its longest rule can match.

RulePolicy rebuilds the dialogue state of every earlier turn of the conversation, three times a
message, though a rule only compares its own few turns with the latest ones: the cost of every
message grew with the length of the conversation (in-process, 8.4 ms a message for visitors sending
10 messages, 13.7 ms for 50; most of the difference here). The states of the last turns are the
same ones RulePolicy computes, so it predicts exactly what RulePolicy does (tests/test_policies.py).
"""
from typing import Any, Dict, FrozenSet, List, Optional, Set, Text, Tuple

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker


def recent_states(tracker: DialogueStateTracker, domain: Domain, turns: int) -> List[State]:
    """The last `turns` of `tracker.past_states(domain)`, without computing the earlier ones."""
    events = tracker.applied_events()
    # past_states has one state before each action and one for the tracker as it is now
    first = sum(isinstance(event, ActionExecuted) for event in events) + 1 - turns
    replay = tracker.init_copy()
    states: List[State] = []
    turn = 0
    for event in events:
        if isinstance(event, ActionExecuted):
            if turn >= first:
                states.append(domain._clean_state(domain.get_active_state(replay)))
            turn += 1
        replay.update(event)
    states.append(domain._clean_state(domain.get_active_state(replay)))
    return states


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class RecentTurnsRulePolicy(RulePolicy):
    """RulePolicy whose prediction looks at the last turns only, as many as its longest rule has.

    RulePolicy matches a rule against the conversation's states from the newest backwards, and any
    state older than a rule's own length matches by definition, so the older states never change
    which rules apply."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (sizes of the rule lookups, length of the longest rule in them)
        self._longest_rule_for: Tuple[Tuple[int, ...], int] = ((), 0)
        # (lookup id, lookup size, states) -> the rules that match those states
        self._possible_keys: Dict[Tuple[int, int, str], FrozenSet[Text]] = {}

    def _longest_rule(self) -> int:
        lookups = [self.lookup.get(name, {}) for name in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH)]
        # training fills and prunes the lookups, so the figure is kept with their sizes
        sizes = tuple(len(lookup) for lookup in lookups)
        if self._longest_rule_for[0] != sizes:
            longest = max((len(self._rule_key_to_state(key)) for lookup in lookups for key in lookup), default=0)
            self._longest_rule_for = (sizes, longest)
        return self._longest_rule_for[1]

    def _prediction_states(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        turns = self._longest_rule()
        if not turns:  # nothing learnt yet (training): the whole conversation, as RulePolicy does
            return super()._prediction_states(tracker, domain, use_text_for_last_user_input, rule_only_data)
        # A message asks twice for the same states (by text, then by intent): kept on the tracker
        # until an event is added.
        version = (len(tracker.events), id(tracker.events[-1]) if tracker.events else None, id(domain), turns)
        kept = tracker.__dict__.get("_recent_states")
        if kept is None or kept[0] != version:
            kept = (version, recent_states(tracker, domain, turns))
            tracker.__dict__["_recent_states"] = kept
        # copied: the choice below edits the states
        states = [{name: dict(sub_state) for name, sub_state in state.items()} for state in kept[1]]
        # the same choice between the last message's text and its intent that RulePolicy makes
        self.featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return states

    def _get_possible_keys(self, lookup: Dict[Text, Text], states: List[State]) -> Set[Text]:
        """RulePolicy's rule matching, remembered for states seen before (most turns repeat a few
        dozen states: "faq" after listening, listening after "utter_faq", ...)."""
        key = (id(lookup), len(lookup), repr(states))
        if key not in self._possible_keys:
            if len(self._possible_keys) > 10_000:
                self._possible_keys.clear()
            self._possible_keys[key] = frozenset(super()._get_possible_keys(lookup, states))
        return set(self._possible_keys[key])
