"""Grouping the unanswered-questions report's messages by meaning: the cosine similarity of their
sentence embeddings (the model's own encoder, clinic/sentence_encoder.py)."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np

from clinic.nlu_data import normalise

if TYPE_CHECKING:
    from clinic.staff.unanswered import Unanswered


@dataclass
class Group:
    messages: List[Unanswered] = field(default_factory=list)
    centroid: Optional[np.ndarray] = None

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def visitors(self) -> int:
        return len({m.sender for m in self.messages})

    @property
    def wordings(self) -> List[Tuple[str, int]]:
        """Distinct wordings, most frequent first (first seen wins ties)."""
        counts: Dict[str, int] = {}
        shown: Dict[str, str] = {}
        for message in self.messages:
            key = normalise(message.text)
            counts[key] = counts.get(key, 0) + 1
            shown.setdefault(key, message.text)
        return [(shown[k], n) for k, n in sorted(counts.items(), key=lambda kv: -kv[1])]

    @property
    def example(self) -> str:
        return self.wordings[0][0]

    @property
    def topic(self) -> str:
        votes: Counter = Counter()
        for message in self.messages:
            if message.topic:
                votes[message.topic] += 1 + message.topic_confidence
        return votes.most_common(1)[0][0] if votes else ""

    @property
    def topic_confidence(self) -> float:
        values = [m.topic_confidence for m in self.messages if m.topic == self.topic]
        return float(np.mean(values)) if values else 0.0

    @property
    def reasons(self) -> Counter:
        return Counter(m.reason for m in self.messages)

    @property
    def first_seen(self) -> datetime:
        return min(m.when for m in self.messages)

    @property
    def last_seen(self) -> datetime:
        return max(m.when for m in self.messages)




def group_by_meaning(messages: Iterable[Unanswered], similarity: float = 0.75,
                     encode: Optional[Callable[[str], np.ndarray]] = None) -> List[Group]:
    """Groups messages whose meaning is alike (cosine similarity of sentence embeddings >= similarity),
    most frequent wordings first so each group is led by its commonest wording; biggest groups first."""
    if encode is None:
        from clinic.sentence_encoder import shared_encoder

        encode = shared_encoder().encode
    by_wording: Dict[str, List[Unanswered]] = defaultdict(list)
    for message in messages:
        by_wording[normalise(message.text) or message.text].append(message)
    groups: List[Group] = []
    for wording, alike in sorted(by_wording.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        vector = np.asarray(encode(alike[0].text), dtype=np.float32)
        vector = vector / (np.linalg.norm(vector) or 1.0)
        best, best_score = None, similarity
        for group in groups:
            score = float(group.centroid @ vector)
            if score >= best_score:
                best, best_score = group, score
        if best is None:
            groups.append(Group(list(alike), vector))
        else:
            total = best.centroid * (best.count) + vector * len(alike)
            best.messages.extend(alike)
            best.centroid = total / (np.linalg.norm(total) or 1.0)
    return sorted(groups, key=lambda g: (-g.count, -g.visitors, g.example))
