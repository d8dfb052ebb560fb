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

Messages are grouped by meaning (clinic/staff/unanswered_groups.py); the closest topic is the one the
assistant's ResponseSelector ranked first. The page is templates/unanswered.html (Jinja2, autoescaped).
"""
import csv
import html
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import jinja2
import sqlalchemy as sa
from markupsafe import Markup

from clinic.database import database_url
from clinic.safety import redact
from clinic.settings import PROJECT_ROOT
from clinic.staff.unanswered_groups import Group, group_by_meaning
from clinic.text_patterns import EMAIL, INVISIBLE, PHONE_CANDIDATE

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
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Unanswered:
    sender: str
    when: datetime
    text: str
    reason: str
    topic: str           # closest FAQ topic, "faq/<name>" ("" when the selector ranked none)
    topic_confidence: float


def clean_text(text: str) -> str:
    """Visitor text safe to show staff: sensitive numbers, emails and phone numbers removed, no
    invisible or direction-changing characters, one line, bounded length."""
    text = redact(text or "")
    text = EMAIL.sub("[email removed]", text)
    text = PHONE_CANDIDATE.sub(lambda m: "[number removed]" if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)
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


def _escaped(value: Any) -> Any:
    """Jinja2 escapes every value (autoescape); this does it as html.escape does (&quot; rather than
    &#34;), which the report used before its templates: the page is unchanged byte for byte."""
    return value if hasattr(value, "__html__") else Markup(html.escape(str(value)))


TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, finalize=_escaped,
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def page(title: str, body: str) -> str:
    """A self-contained HTML page around body (HTML, not escaped): inline style, no scripts, nothing
    fetched from elsewhere."""
    return TEMPLATES.get_template("unanswered_page.html").render(title=title, body=Markup(body))


def render_html(groups: Sequence[Group], start: datetime, end: datetime, faq_dir: Path) -> str:
    reasons: Counter = Counter()
    for group in groups:
        reasons.update(group.reasons)
    top = groups[:CHART_GROUPS]
    most = max((g.count for g in top), default=1)
    return TEMPLATES.get_template("unanswered.html").render(
        title="Unanswered questions", start=f"{start:%Y-%m-%d %H:%M}", end=f"{end:%Y-%m-%d %H:%M}",
        total=sum(g.count for g in groups), groups=groups,
        reasons=[(REASON_TEXT[r], n) for r, n in reasons.most_common()],
        bars=[(group, 100.0 * group.count / most) for group in top],
        rows=list(zip(groups, csv_rows(groups, faq_dir))))


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
