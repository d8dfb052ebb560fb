"""The content quality report: how well the assistant tells the topics apart, from the example questions
alone, measured by cross-validation (Rasa's `rasa test nlu --cross-validation`): the examples are split
into N parts; N models are trained, each on all parts but one and tested on the part it did not see.

    scripts/staff.sh quality [--folds 3]                       # slow: each fold trains a model
    scripts/staff.sh quality --from-results var/reports/quality-results-2026-11-25

The HTML page shows, per topic, precision and recall, which topics it is mixed up with and the example
questions that went to the wrong topic, and embeds the confusion matrix pictures Rasa draws.
"""
import base64
import html
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional

from clinic.staff.models import StaffError
from clinic.staff.unanswered import page

TOPIC_REPORT = "response_selection_report.json"
TOPIC_ERRORS = "response_selection_errors.json"
TOPIC_MATRIX = "response_selection_confusion_matrix.png"
INTENT_REPORT = "intent_report.json"
INTENT_MATRIX = "intent_confusion_matrix.png"
SUMMARY_KEYS = {"accuracy", "macro avg", "weighted avg", "micro avg"}
MAX_ERRORS_SHOWN = 200


def run_cross_validation(project_root: Path, folds: int, out_dir: Path) -> Path:
    """Runs Rasa's cross-validation on the project's data; returns the results folder."""
    if folds < 2:
        raise StaffError("--folds must be at least 2.")
    results = out_dir / f"quality-results-{datetime.now():%Y-%m-%d-%H%M}"
    results.mkdir(parents=True, exist_ok=True)
    log = results / "rasa.log"
    print(f"Cross-validation with {folds} folds: {folds} models are trained, each on {folds - 1}/{folds} of the "
          f"examples (a minute or two each on 2 cores). Progress: {log}", flush=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}
    rasa = Path(sys.executable).parent / "rasa"
    with open(log, "w", encoding="utf-8") as handle:
        result = subprocess.run(
            [str(rasa), "test", "nlu", "--nlu", "data", "--config", "config.yml", "--cross-validation",
             "--folds", str(folds), "--out", str(results.resolve())],
            cwd=project_root, env=env, stdout=handle, stderr=subprocess.STDOUT,
        )
    if result.returncode != 0 or not (results / TOPIC_REPORT).is_file():
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise StaffError("The cross-validation failed:\n" + "\n".join(tail))
    return results


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _image(path: Path, alt: str) -> str:
    if not path.is_file():
        return f"<p class=\"muted\">(No picture: {html.escape(path.name)} was not written.)</p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img alt=\"{html.escape(alt)}\" style=\"max-width:100%;height:auto\" src=\"data:image/png;base64,{data}\">"


def _score_cell(value: float) -> str:
    colour = "#c9ecd1" if value >= 0.95 else "#fff1b8" if value >= 0.85 else "#ffd2cc"
    return f"<td class=\"n\" style=\"background:{colour}\">{value:.2f}</td>"


def _mixed_up(entry: Dict[str, Any]) -> str:
    confused = entry.get("confused_with") or {}
    return ", ".join(f"{html.escape(str(name))} ({count})" for name, count in
                     sorted(confused.items(), key=lambda kv: -kv[1]))


def per_label_rows(report: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One row per topic (or intent): weakest (lowest F1) first."""
    rows = [{"label": label, **values} for label, values in report.items()
            if label not in SUMMARY_KEYS and isinstance(values, dict)]
    return sorted(rows, key=lambda r: (r.get("f1-score", 0.0), r["label"]))


def _table(rows: List[Dict[str, Any]], what: str) -> str:
    e = html.escape
    body = []
    for row in rows:
        body.append(f"<tr><td>{e(str(row['label']))}</td>{_score_cell(float(row.get('precision', 0)))}"
                    f"{_score_cell(float(row.get('recall', 0)))}{_score_cell(float(row.get('f1-score', 0)))}"
                    f"<td class=\"n\">{int(row.get('support', 0))}</td><td>{_mixed_up(row) or '&ndash;'}</td></tr>")
    return (f"<table><thead><tr><th>{e(what)}</th><th>Precision</th><th>Recall</th><th>F1</th><th>Examples</th>"
            f"<th>Mixed up with (times)</th></tr></thead><tbody>{''.join(body)}</tbody></table>")


def _errors(errors: Optional[List[Dict[str, Any]]]) -> str:
    if not errors:
        return "<p>Every example question went to its own topic.</p>"
    e = html.escape
    rows = []
    ordered = sorted(errors, key=lambda x: (str(x.get("intent_response_key_target")),
                                            -float((x.get("intent_response_key_prediction") or {}).get("confidence") or 0)))
    for error in ordered[:MAX_ERRORS_SHOWN]:
        predicted = error.get("intent_response_key_prediction") or {}
        rows.append(f"<tr><td>{e(str(error.get('text', '')))}</td><td>{e(str(error.get('intent_response_key_target', '')))}</td>"
                    f"<td>{e(str(predicted.get('name', '')))}</td>"
                    f"<td class=\"n\">{float(predicted.get('confidence') or 0):.2f}</td></tr>")
    more = (f"<p class=\"muted\">{len(errors) - MAX_ERRORS_SHOWN} more in {TOPIC_ERRORS}.</p>"
            if len(errors) > MAX_ERRORS_SHOWN else "")
    return ("<table><thead><tr><th>Example question</th><th>Written under</th><th>Taken for</th><th>Confidence</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}")


def render(results: Path, folds: Optional[int] = None) -> str:
    """The report's HTML, self-contained (pictures embedded), from a `rasa test nlu` results folder."""
    topics = _read_json(results / TOPIC_REPORT)
    if not isinstance(topics, dict):
        raise StaffError(f"{results} has no {TOPIC_REPORT}: is it a cross-validation results folder?")
    intents = _read_json(results / INTENT_REPORT) or {}
    e = html.escape
    accuracy = float(topics.get("accuracy", 0.0))
    rows = per_label_rows(topics)
    weak = [r for r in rows if float(r.get("f1-score", 0)) < 0.85]
    how = f"{folds}-fold cross-validation" if folds else "cross-validation"
    parts = [
        "<h1>Content quality: which topics the assistant mixes up</h1>",
        f"<p class=\"muted\">{e(how)} of the example questions in data/ &middot; results from {e(str(results))} &middot; "
        f"{datetime.fromtimestamp((results / TOPIC_REPORT).stat().st_mtime):%Y-%m-%d %H:%M}</p>",
        "<div class=\"box\"><b>How to read this.</b> Each example question was given to a model trained "
        "<i>without</i> it, as if a visitor had asked it. <b>Recall</b>: of the questions written under a topic, the "
        "share that got that topic (low: visitors asking this get another answer). <b>Precision</b>: of the questions "
        "the assistant put under a topic, the share that belonged there (low: other questions get this answer). "
        "Green is 0.95 or more, yellow 0.85 or more, red below. To fix a weak topic, look at its wrong examples below: "
        "reword examples that could belong to both topics, move an example that is in the wrong file, or add "
        "examples that say what makes the topic different. Then run this report again.</div>",
        f"<h2>Topics</h2><p>The right topic was chosen for <b>{accuracy:.1%}</b> of "
        f"{int((topics.get('weighted avg') or {}).get('support', 0))} example questions. "
        + (f"Weakest: {', '.join(e(str(r['label'])) for r in weak)}." if weak else "No topic is below 0.85.")
        + " Weakest first.</p>",
        _table(rows, "Topic"),
        "<h2>Which topic was taken for which</h2><p>Rows: the topic a question was written under; columns: the "
        "topic the assistant chose. The diagonal is right; every number off it is a mix-up.</p>",
        _image(results / TOPIC_MATRIX, "topic confusion matrix"),
        "<h2>Example questions that went to the wrong topic</h2>",
        _errors(_read_json(results / TOPIC_ERRORS)),
    ]
    if intents:
        parts += [
            "<h2>Kinds of message</h2><p>Before choosing a topic the assistant decides what kind of message it is "
            "(an FAQ question, a greeting, out of scope, a contact request, ...). <i>nlu_fallback</i> means it was "
            "unsure and would ask the visitor to rephrase.</p>",
            _table(per_label_rows(intents), "Kind"),
            _image(results / INTENT_MATRIX, "message kind confusion matrix"),
        ]
    return page("Content quality report", "\n".join(parts))


def build_report(results: Path, out_file: Path, folds: Optional[int] = None) -> Path:
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(render(results, folds), encoding="utf-8")
    return out_file
