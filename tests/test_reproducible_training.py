"""The same content and requirements train the same model: another process (another hash seed) gives
identical predictions, to the last digit of each confidence, on every bench question; and the
encoder computes the vectors stored in tests/encoder_reference.json, as on the machine that stored them.

Why it matters: a test once passed or failed depending on where a borderline call fell on the
machine that trained the model (issue 17). The known cause was the encoder's 8-bit kernel, which
rounds differently on CPUs with and without VNNI (clinic/sentence_encoder.py, eight_bit_matrices)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict

import numpy as np

from clinic.sentence_encoder import shared_encoder
from clinic.serve import CURRENT_MODEL_FILE, QUIET_ENV, VENV_BIN
from clinic.settings import PROJECT_ROOT

REFERENCE = Path(__file__).parent / "encoder_reference.json"


_second_training: Dict[str, Any] = {}


def start_second_training() -> None:
    """Starts the second training when the suite starts (tests/conftest.py), at low priority, so it
    runs while other tests wait on their servers instead of adding a minute to the suite."""
    folder = Path(tempfile.mkdtemp(prefix="second-training-"))
    env = {**os.environ, **QUIET_ENV, "PYTHONHASHSEED": "12345"}
    log = (folder / "train.log").open("w")
    _second_training.update(folder=folder, env=env, process=subprocess.Popen(
        ["nice", "-n", "10", str(VENV_BIN / "rasa"), "train", "--fixed-model-name", "again", "--out", str(folder)],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))


def test_training_again_in_another_process_gives_identical_predictions() -> None:
    if not _second_training:
        start_second_training()
    folder, env = _second_training["folder"], _second_training["env"]
    assert _second_training["process"].wait(timeout=900) == 0, (folder / "train.log").read_text()[-3000:]
    served = PROJECT_ROOT / CURRENT_MODEL_FILE.read_text().strip()
    compared = subprocess.run([sys.executable, "bench/fingerprint.py", "--model", str(served), str(folder / "again.tar.gz")],
                              cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert compared.returncode == 0, compared.stdout[-3000:] + compared.stderr[-3000:]
    shutil.rmtree(folder, ignore_errors=True)


def test_the_encoder_computes_the_stored_vectors() -> None:
    """Written once by `python tests/test_reproducible_training.py`; it changes only with the encoder.
    On the machine that wrote it the difference is 0. The tolerance leaves room for another CPU's
    floating-point kernels (last-bit rounding) and is 100 times below what the saturating kernel
    changed."""
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    encoder = shared_encoder()
    differences = {text: float(np.abs(encoder.encode(text) - np.array(vector)).max()) for text, vector in reference.items()}
    assert max(differences.values()) <= 1e-4, differences


if __name__ == "__main__":
    texts = ["is it safe?", "how many infusions will i need", "my fibromyalgia flares every winter, could this help",
             "¿cuánto cuesta el tratamiento?", "I've had CRPS in my foot for 3 years, would ketamin infussions help??",
             "whats the capital of australia", "i want to end it all", "pain " * 200]
    vectors = {text: [float(x) for x in shared_encoder().encode(text)] for text in texts}
    REFERENCE.write_text(json.dumps(vectors, indent=None) + "\n", encoding="utf-8")
