"""Stock Rasa's default configuration (bench/stock_config.yml), our previous DIET + ResponseSelector
pipeline (bench/diet_config.yml) and ours, side by side, on the same data, questions and machine, in
one run:

  training time, server start-up, REST latency p50/p95 over 200 sequential questions, messages per
  second with 16 concurrent senders, resident memory, held-out accuracy; and the ratio ours/stock.

Models are trained into $CLINIC_CACHE_DIR/bench (keyed by config and content) the first time, with
their training time recorded, and reused afterwards.

    .venv/bin/python bench/versus_stock.py [--questions bench/heldout_v2.yml]
"""
import argparse
import asyncio
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.accuracy import SEEN, score  # noqa: E402
from bench.heldout_set import HELDOUT  # noqa: E402
from bench.latency import concurrent, machine, percentile, rss_mb, sequential  # noqa: E402
from clinic.serve import QUIET_ENV, VENV_BIN, Assistant  # noqa: E402
from clinic.settings import PROJECT_ROOT  # noqa: E402

CONFIGS = {"stock": PROJECT_ROOT / "bench" / "stock_config.yml", "diet": PROJECT_ROOT / "bench" / "diet_config.yml",
           "ours": PROJECT_ROOT / "config.yml"}
CONTENT = ["data", "domain.yml", "clinic/nlu_components.py", "clinic/question_classifier.py", "clinic/sentence_encoder.py"]


def content_hash(config: Path) -> str:
    digest = hashlib.sha256(config.read_bytes())
    for name in CONTENT:
        path = PROJECT_ROOT / name
        for file in sorted(path.rglob("*") if path.is_dir() else [path]):
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def trained(name: str, config: Path, cache: Path) -> Dict:
    """{"model": path, "train_seconds": s}, training only when this config and content are new."""
    model = cache / f"{name}-{content_hash(config)}.tar.gz"
    record = model.with_suffix(".json")
    if not (model.exists() and record.exists()):
        print(f"training {name} (this takes minutes)...", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [str(VENV_BIN / "rasa"), "train", "--config", str(config), "--out", str(cache),
             "--fixed-model-name", model.name[: -len(".tar.gz")]],
            cwd=PROJECT_ROOT, env={**os.environ, **QUIET_ENV}, check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        record.write_text(json.dumps({"train_seconds": time.perf_counter() - started}))
    return {"model": model, **json.loads(record.read_text())}


def measure(name: str, model: Path, questions: Path) -> Dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix=f"clinic-bench-{name}-"))
    server = Assistant(rasa_port=5205, action_port=5255, database=f"sqlite:///{workdir / 'bench.sqlite'}",
                       model=model, log_dir=workdir / "logs")
    started = time.perf_counter()
    server.start()
    figures = {"start_seconds": time.perf_counter() - started}
    try:
        run_id = f"{name}-{int(time.time())}"
        sequential(server.url, 5, run_id + "-warm")
        latencies = sequential(server.url, 200, run_id)
        figures["p50_ms"] = percentile(latencies, .5) * 1000
        figures["p95_ms"] = percentile(latencies, .95) * 1000
        rate, errors, _ = concurrent(server.url, 16, 25, run_id)
        figures["messages_per_s"], figures["errors"] = rate, errors
        figures["rss_mb"] = rss_mb(server.processes[-1].pid)
    finally:
        server.stop()
    results = asyncio.run(score(model, questions, show_errors=False))
    results.pop(SEEN, None)  # a breakdown of the same questions, not more of them
    correct = sum(c["correct"] for c in results.values())
    figures["accuracy_pct"] = 100 * correct / sum(sum(c.values()) for c in results.values())
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=HELDOUT)
    parser.add_argument("--ours-model", type=Path, help="use this trained model of ours (training time not measured)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    cache = Path(os.environ.get("CLINIC_CACHE_DIR", Path.home() / ".cache" / "clinic-faq-assistant")) / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}\nquestions: {args.questions}")
    rows = {}
    for name, config in CONFIGS.items():
        if name == "ours" and args.ours_model:
            model = {"model": args.ours_model, "train_seconds": float("nan")}
        else:
            model = trained(name, config, cache)
        rows[name] = {"train_seconds": model["train_seconds"], **measure(name, model["model"], args.questions)}
    print(f"{'':18}" + "".join(f"{name:>10}" for name in rows) + f"{'ours/stock':>12}")
    for key in ("train_seconds", "start_seconds", "p50_ms", "p95_ms", "messages_per_s", "errors", "rss_mb", "accuracy_pct"):
        stock, ours = rows["stock"][key], rows["ours"][key]
        ratio = f"{ours / stock:.2f}" if stock and ours == ours else "-"
        print(f"{key:18}" + "".join(f"{row[key]:>10.1f}" for row in rows.values()) + f"{ratio:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
