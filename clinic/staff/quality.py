"""The content quality report: how well the assistant tells the topics apart, from the example questions
alone, measured by cross-validation (Rasa's `rasa test nlu --cross-validation`): the examples are split
into N parts; N models are trained, each on all parts but one and tested on the part it did not see.

    scripts/staff.sh quality [--folds 3]                       # slow: each fold trains a model
    scripts/staff.sh quality --from-results var/reports/quality-results-2026-11-25

The HTML page shows, per topic, precision and recall, which topics it is mixed up with and the example
questions that went to the wrong topic, and embeds the confusion matrix pictures Rasa draws.
"""
import base64
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional

from clinic.staff.models import StaffError
from clinic.staff.unanswered import TEMPLATES

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


def _picture(path: Path) -> Dict[str, Optional[str]]:
    data = base64.b64encode(path.read_bytes()).decode("ascii") if path.is_file() else None
    return {"name": path.name, "data": data}


def per_label_rows(report: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One row per topic (or intent): weakest (lowest F1) first."""
    rows = [{"label": label, **values} for label, values in report.items()
            if label not in SUMMARY_KEYS and isinstance(values, dict)]
    return sorted(rows, key=lambda r: (r.get("f1-score", 0.0), r["label"]))


def _table_rows(report: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"label": str(row["label"]), "precision": float(row.get("precision", 0)), "recall": float(row.get("recall", 0)),
             "f1": float(row.get("f1-score", 0)), "support": int(row.get("support", 0)),
             "confused": sorted((row.get("confused_with") or {}).items(), key=lambda kv: -kv[1])}
            for row in per_label_rows(report)]


def _error_rows(errors: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The examples taken for another topic, by topic, the most confident mistakes first."""
    ordered = sorted(errors, key=lambda x: (str(x.get("intent_response_key_target")),
                                            -float((x.get("intent_response_key_prediction") or {}).get("confidence") or 0)))
    return [{"text": str(error.get("text", "")), "target": str(error.get("intent_response_key_target", "")),
             "predicted": str((error.get("intent_response_key_prediction") or {}).get("name", "")),
             "confidence": float((error.get("intent_response_key_prediction") or {}).get("confidence") or 0)}
            for error in ordered[:MAX_ERRORS_SHOWN]]


def render(results: Path, folds: Optional[int] = None) -> str:
    """The report's HTML, self-contained (pictures embedded), from a `rasa test nlu` results folder; the
    page is templates/quality.html, where Jinja2 escapes every value (example questions are visitors' words)."""
    topics = _read_json(results / TOPIC_REPORT)
    if not isinstance(topics, dict):
        raise StaffError(f"{results} has no {TOPIC_REPORT}: is it a cross-validation results folder?")
    intents = _read_json(results / INTENT_REPORT) or {}
    errors = _read_json(results / TOPIC_ERRORS) or []
    rows = _table_rows(topics)
    return TEMPLATES.get_template("quality.html").render(
        title="Content quality report", how=f"{folds}-fold cross-validation" if folds else "cross-validation",
        results=str(results), written=f"{datetime.fromtimestamp((results / TOPIC_REPORT).stat().st_mtime):%Y-%m-%d %H:%M}",
        accuracy=f"{float(topics.get('accuracy', 0.0)):.1%}",
        questions=int((topics.get("weighted avg") or {}).get("support", 0)),
        weak=[row["label"] for row in rows if row["f1"] < 0.85], topics=rows, topic_matrix=_picture(results / TOPIC_MATRIX),
        errors=_error_rows(errors), more=max(0, len(errors) - MAX_ERRORS_SHOWN), errors_file=TOPIC_ERRORS,
        intents=_table_rows(intents), intent_matrix=_picture(results / INTENT_MATRIX))


def build_report(results: Path, out_file: Path, folds: Optional[int] = None) -> Path:
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(render(results, folds), encoding="utf-8")
    return out_file
