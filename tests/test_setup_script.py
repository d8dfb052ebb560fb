"""scripts/setup.sh on a machine whose cache holds no other environment (a fresh CI runner), and its clean-up of
old environments. Uses the environment already installed (VENV_DIR), so nothing is downloaded."""
import os
import subprocess
import shutil
from pathlib import Path

from clinic.settings import PROJECT_ROOT


def venv_only(project: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CLINIC_CACHE_DIR": str(cache), "VENV_DIR": str((PROJECT_ROOT / ".venv").resolve())}
    return subprocess.run(["bash", str(project / "scripts" / "setup.sh"), "--venv-only"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


def copy_of_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    for folder in ("scripts", "requirements"):
        shutil.copytree(PROJECT_ROOT / folder, project / folder)
    return project


def test_setup_succeeds_when_the_cache_holds_no_other_environment(tmp_path):
    project = copy_of_project(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    result = venv_only(project, cache)
    assert result.returncode == 0, result.stderr
    assert (project / ".venv").resolve() == (PROJECT_ROOT / ".venv").resolve()


def test_setup_keeps_only_the_newest_previous_environment(tmp_path):
    project = copy_of_project(tmp_path)
    cache = tmp_path / "cache"
    for age, name in enumerate(["venv-newer", "venv-older", "venv-oldest"]):
        (cache / name).mkdir(parents=True)
        os.utime(cache / name, (1_700_000_000 - age * 1000,) * 2)
    result = venv_only(project, cache)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in cache.iterdir()) == ["venv-newer"]
