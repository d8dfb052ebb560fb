"""A real headless browser for tests: Debian's Chromium, installed with apt when missing, driven by
Playwright (the pip package; Playwright's own browser download is not used)."""
import os
import shutil
import subprocess
from typing import Optional, Tuple

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]


def _run(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, capture_output=True, text=True, timeout=900)


def ensure_chromium() -> Tuple[Optional[str], str]:
    """(path of Chromium, its version) or (None, why it cannot be had)."""
    path = os.environ.get("TEST_CHROMIUM") or (CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"))
    if not path:
        if os.geteuid() != 0:
            return None, "Chromium is not installed and the tests are not root (apt-get install chromium)"
        installed = _run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium")
        if installed.returncode != 0 or not os.path.exists(CHROMIUM):
            return None, f"apt-get install chromium failed: {(installed.stderr or installed.stdout)[-500:]}"
        path = CHROMIUM
    version = _run(f"{path} --version").stdout.strip()
    if not version:
        return None, f"{path} does not run"
    return path, version
