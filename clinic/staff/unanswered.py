"""The unanswered-questions report: visitor messages the assistant could not answer well, grouped by
meaning, with how often they were asked and the topic file to copy them into.

A message counts when, over the chosen period, the assistant
  * asked the visitor to rephrase (fallback: `action_suggest_topics` / `utter_ask_rephrase`),
  * gave the out-of-scope reply (`utter_out_of_scope`), or
  * answered an FAQ topic with a response confidence under --min-confidence (default 0.6).
Not counted: answers to the contact form's questions (names, phone numbers), fillers ("hmm") and
messages the safety layer decided (crisis, card numbers, "ignore your instructions"): they are not
content gaps. Card and social security numbers are already removed before conversations are stored;
email addresses and phone numbers are also removed from the report.

Messages are grouped by the cosine similarity of their sentence embeddings (the model's own encoder,
clinic/sentence_encoder.py); the closest topic is the one the assistant's ResponseSelector ranked first.
"""
import csv
import html
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import sqlalchemy as sa

from clinic.database import database_url
from clinic.nlu_data import normalise
from clinic.safety import redact
from clinic.settings import PROJECT_ROOT

FALLBACK, OUT_OF_SCOPE, UNSURE = "fallback", "out of scope", "unsure answer"
REASON_TEXT = {
    FALLBACK: "asked to rephrase",
    OUT_OF_SCOPE: "out-of-scope reply",
    UNSURE: "answered, but unsure",
}
FALLBACK_ACTIONS = {"action_suggest_topics", "action_default_fallback", "action_two_stage_fallback"}
FALLBACK_UTTERANCES = {"utter_ask_rephrase", "utter_default"}
FORM = "contact_form"
MAX_TEXT = 300
CHART_GROUPS = 15
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,22}\d")
INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Unanswered:
    sender: str
    when: datetime
    text: str
    reason: str
    topic: str           # closest FAQ topic, "faq/<name>" ("" when the selector ranked none)
    topic_confidence: float


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


def clean_text(text: str) -> str:
    """Visitor text safe to show staff: sensitive numbers, emails and phone numbers removed, no
    invisible or direction-changing characters, one line, bounded length."""
    text = redact(text or "")
    text = EMAIL.sub("[email removed]", text)
    text = PHONE.sub(lambda m: "[number removed]" if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)
    text = " ".join(INVISIBLE.sub("", text).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "\u2026"


def topic_file(topic: str, faq_dir: Path) -> str:
    """Where staff add examples for this topic, relative to the project when possible."""
    if not topic.startswith("faq/"):
        return ""
    path = faq_dir / f"{topic.split('/', 1)[1]}.yml"
    try:
        shown = str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        shown = str(path)
    return shown if path.is_file() else f"{shown} (new file)"


def _is_guard_verdict(parse_data: Dict[str, Any]) -> bool:
    """True when the safety layer or the message guard set the intent (a one-entry ranking at 1.0),
    for fillers, crises, sensitive numbers, manipulation attempts: not content gaps."""
    ranking = parse_data.get("intent_ranking") or []
    return len(ranking) == 1 and float(ranking[0].get("confidence") or 0) >= 1.0


def _closest_topic(parse_data: Dict[str, Any]) -> Tuple[str, float]:
    ranking = ((parse_data.get("response_selector") or {}).get("faq") or {}).get("ranking") or []
    if not ranking:
        return "", 0.0
    best = max(ranking, key=lambda r: float(r.get("confidence") or 0))
    return str(best.get("intent_response_key") or ""), float(best.get("confidence") or 0)


def classify(parse_data: Dict[str, Any], actions: Sequence[str], utterances: Sequence[str],
             min_confidence: float) -> Optional[str]:
    """Why a visitor message counts as unanswered, or None when it was answered (or is no content gap)."""
    if _is_guard_verdict(parse_data):
        return None
    if FALLBACK_ACTIONS.intersection(actions) or FALLBACK_UTTERANCES.intersection(utterances):
        return FALLBACK
    if "utter_out_of_scope" in utterances:
        return OUT_OF_SCOPE
    if any(u.startswith("utter_faq/") for u in utterances):
        response = ((parse_data.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        if float(response.get("confidence") or 0) < min_confidence:
            return UNSURE
    return None


def _events(engine: sa.engine.Engine, start: float, end: float) -> Iterator[sa.engine.Row]:
    """The events, in order, of every conversation with a visitor message in the period."""
    metadata = sa.MetaData()
    if not sa.inspect(engine).has_table("events"):
        return
    events = sa.Table("events", metadata, autoload_with=engine)
    in_period = (events.c.type_name == "user") & (events.c.timestamp >= start) & (events.c.timestamp < end)
    with engine.connect() as connection:
        senders = [row[0] for row in connection.execute(sa.select(events.c.sender_id).where(in_period).distinct())]
        for first in range(0, len(senders), 500):
            query = (sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.action_name,
                               events.c.data)
                     .where(events.c.sender_id.in_(senders[first:first + 500]) & (events.c.timestamp < end))
                     .order_by(events.c.sender_id, events.c.id))
            yield from connection.execute(query)


def unanswered_messages(start: datetime, end: datetime, database: Optional[str] = None,
                        min_confidence: float = 0.6) -> List[Unanswered]:
    """Visitor messages between start and end that the assistant could not answer well."""
    engine = sa.create_engine(database or database_url())
    found: List[Unanswered] = []
    try:
        turn: Optional[Dict[str, Any]] = None
        sender, in_form = None, False

        def finish() -> None:
            if not turn or turn["in_form"] or not (start.timestamp() <= turn["when"] < end.timestamp()):
                return
            reason = classify(turn["parse"], turn["actions"], turn["utterances"], min_confidence)
            text = clean_text(turn["text"])
            if reason and text:
                topic, confidence = _closest_topic(turn["parse"])
                found.append(Unanswered(turn["sender"], datetime.fromtimestamp(turn["when"], timezone.utc), text,
                                        reason, topic, confidence))

        for row in _events(engine, start.timestamp(), end.timestamp()):
            if row.sender_id != sender:
                finish()
                turn, sender, in_form = None, row.sender_id, False
            data = json.loads(row.data or "{}")
            if row.type_name == "user":
                finish()
                turn = {"sender": row.sender_id, "when": float(row.timestamp or 0), "text": data.get("text") or "",
                        "parse": data.get("parse_data") or {}, "actions": [], "utterances": [], "in_form": in_form}
            elif row.type_name == "active_loop":
                in_form = data.get("name") == FORM
            elif row.type_name in ("session_started", "restart"):
                in_form = False
            elif turn is not None and row.type_name == "action":
                turn["actions"].append(row.action_name or data.get("name") or "")
            elif turn is not None and row.type_name == "bot":
                turn["utterances"].append(((data.get("metadata") or {}).get("utter_action")) or "")
        finish()
    finally:
        engine.dispose()
    return found


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


def _csv_cell(value: Any) -> Any:
    """Spreadsheet programs run cells starting with = + - @ as formulas: visitor text must not."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_START):
        return "'" + value
    return value


CSV_COLUMNS = ["rank", "times_asked", "visitors", "example", "closest_topic", "add_examples_to",
               "topic_confidence", "why", "first_seen", "last_seen", "all_wordings"]


def csv_rows(groups: Sequence[Group], faq_dir: Path) -> List[Dict[str, Any]]:
    rows = []
    for rank, group in enumerate(groups, 1):
        rows.append({
            "rank": rank,
            "times_asked": group.count,
            "visitors": group.visitors,
            "example": group.example,
            "closest_topic": group.topic,
            "add_examples_to": topic_file(group.topic, faq_dir),
            "topic_confidence": f"{group.topic_confidence:.2f}",
            "why": "; ".join(f"{REASON_TEXT[r]} x{n}" for r, n in group.reasons.most_common()),
            "first_seen": f"{group.first_seen:%Y-%m-%d %H:%M}",
            "last_seen": f"{group.last_seen:%Y-%m-%d %H:%M}",
            "all_wordings": " | ".join(f"{text} (x{n})" if n > 1 else text for text, n in group.wordings),
        })
    return rows


def write_csv(groups: Sequence[Group], path: Path, faq_dir: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in csv_rows(groups, faq_dir):
            writer.writerow({key: _csv_cell(value) for key, value in row.items()})


PAGE_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1d2733;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem}
.muted{color:#5b6775}.box{background:#f3f6f9;border-radius:8px;padding:.8rem 1rem}
table{border-collapse:collapse;width:100%;font-size:.93rem}th,td{border-bottom:1px solid #dde3ea;padding:.45rem .5rem;text-align:left;vertical-align:top}
th{background:#eef2f6}td.n{text-align:right;white-space:nowrap}td.when{white-space:nowrap}
.bar-row{display:grid;grid-template-columns:minmax(0,22rem) 1fr 3rem;gap:.6rem;align-items:center;margin:.25rem 0;font-size:.92rem}
.bar-label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bar-track{background:#eef2f6;border-radius:4px;height:1.1rem}.bar{background:#2f6f9f;height:100%;border-radius:4px}
pre{background:#f7f7f2;border:1px solid #e2e2d5;padding:.5rem;white-space:pre-wrap;margin:.3rem 0}
code{background:#eef2f6;padding:0 .25rem;border-radius:3px}details summary{cursor:pointer;color:#2f6f9f}
"""


def page(title: str, body: str) -> str:
    """A self-contained HTML page: inline style, no scripts, nothing fetched from elsewhere."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{PAGE_STYLE}</style></head><body>\n{body}\n</body></html>\n")


def render_html(groups: Sequence[Group], start: datetime, end: datetime, faq_dir: Path) -> str:
    e = html.escape
    total = sum(g.count for g in groups)
    reasons: Counter = Counter()
    for group in groups:
        reasons.update(group.reasons)
    parts = [f"<h1>Questions the assistant could not answer</h1>",
             f"<p class=\"muted\">{e(f'{start:%Y-%m-%d %H:%M}')} to {e(f'{end:%Y-%m-%d %H:%M}')} UTC &middot; "
             f"{total} messages in {len(groups)} groups &middot; "
             + " &middot; ".join(f"{e(REASON_TEXT[r])}: {n}" for r, n in reasons.most_common()) + "</p>"]
    parts.append(
        "<div class=\"box\"><b>How to use this page.</b> Each row is a group of visitor messages with the same "
        "meaning. If the assistant should answer them, copy the wordings (ready to paste under "
        "<code>examples: |</code>) into the topic file shown, then run <code>scripts/staff.sh check</code> and "
        "<code>scripts/staff.sh retrain</code>. If the closest topic is wrong, put them in the right topic's file, "
        "or start a new topic (docs/staff-guide.md). Questions the clinic does not want answered can go to "
        "<code>data/out_of_scope.yml</code> instead. Email addresses and phone numbers are removed.</div>")
    if not groups:
        parts.append("<p><b>Nothing to report:</b> every visitor question in this period was answered.</p>")
        return page("Unanswered questions", "\n".join(parts))

    top = groups[:CHART_GROUPS]
    most = max(g.count for g in top)
    parts.append(f"<h2>Most common gaps</h2><div role=\"img\" aria-label=\"bar chart of the {len(top)} largest groups\">")
    for group in top:
        width = 100.0 * group.count / most
        parts.append(f"<div class=\"bar-row\"><span class=\"bar-label\" title=\"{e(group.example)}\">{e(group.example)}</span>"
                     f"<span class=\"bar-track\"><span class=\"bar\" style=\"display:block;width:{width:.1f}%\"></span></span>"
                     f"<span>{group.count}</span></div>")
    parts.append("</div>")

    parts.append("<h2>All groups</h2><table><thead><tr><th>#</th><th>Times asked</th><th>Visitors</th>"
                 "<th>Example and all wordings</th><th>Closest topic</th><th>Add examples to</th><th>Why</th>"
                 "<th>Last asked</th></tr></thead><tbody>")
    for rank, (group, row) in enumerate(zip(groups, csv_rows(groups, faq_dir)), 1):
        pasteable = "\n".join(f"    - {text}" for text, _ in group.wordings)
        wordings = (f"<details><summary>{len(group.wordings)} wording(s), ready to paste</summary>"
                    f"<pre>{e(pasteable)}</pre></details>")
        parts.append(
            f"<tr><td class=\"n\">{rank}</td><td class=\"n\">{group.count}</td><td class=\"n\">{group.visitors}</td>"
            f"<td>{e(group.example)}{wordings}</td>"
            f"<td>{e(group.topic) or '&ndash;'}<br><span class=\"muted\">confidence {group.topic_confidence:.2f}</span></td>"
            f"<td><code>{e(row['add_examples_to']) or '&ndash;'}</code></td><td>{e(row['why'])}</td>"
            f"<td class=\"when\">{e(row['last_seen'])}</td></tr>")
    parts.append("</tbody></table>")
    return page("Unanswered questions", "\n".join(parts))


def write_report(out_dir: Path, start: datetime, end: datetime, database: Optional[str] = None,
                 min_confidence: float = 0.6, similarity: float = 0.75,
                 faq_dir: Path = PROJECT_ROOT / "data" / "faq") -> Tuple[Path, Path, List[Group]]:
    """Writes unanswered-<from>-to-<to>.csv and .html in out_dir; returns their paths and the groups."""
    groups = group_by_meaning(unanswered_messages(start, end, database, min_confidence), similarity)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"unanswered-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}"
    csv_path, html_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.html"
    write_csv(groups, csv_path, faq_dir)
    html_path.write_text(render_html(groups, start, end, faq_dir), encoding="utf-8")
    return csv_path, html_path, groups
