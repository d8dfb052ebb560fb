"""Rasa's own checks: the test stories pass against the trained model. (`rasa data validate` runs in
process, as the content check runs it: tests/test_content.py::test_rasa_finds_nothing_in_the_real_content.)"""
from pathlib import Path

from clinic.serve import CURRENT_MODEL_FILE
from conftest import run_rasa


def test_stories_pass(tmp_path: Path) -> None:
    model = CURRENT_MODEL_FILE.read_text().strip()
    result = run_rasa(
        "test", "core", "--e2e", "--model", model, "--stories", "tests/test_stories.yml",
        "--fail-on-prediction-errors", "--out", str(tmp_path),
    )
    failed = tmp_path / "failed_test_stories.yml"
    assert result.returncode == 0, failed.read_text() if failed.exists() else result.stderr[-3000:]
