"""A real PostgreSQL server on 127.0.0.1 for tests: Debian's package, installed and started if missing."""
import os
import shutil
import subprocess
from functools import lru_cache
from typing import Optional

TEST_DATABASE = "clinic_test"
TEST_USER = "clinic_test"
TEST_PASSWORD = "clinic_test_pw"  # a throw-away role on a loopback-only test server


def _run(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, capture_output=True, text=True, timeout=600)


def _as_postgres(sql: str) -> subprocess.CompletedProcess:
    return _run(f"su postgres -c \"psql -v ON_ERROR_STOP=1 -qc \\\"{sql}\\\"\"")


@lru_cache(maxsize=1)
def ensure_postgres() -> Optional[str]:
    """A URL of a test database, or None (with the reason printed) when PostgreSQL cannot be had.
    Made once per test session: dropping it again would fail while earlier tests' pools hold it."""
    if os.environ.get("TEST_POSTGRES_URL"):
        return os.environ["TEST_POSTGRES_URL"]
    if not shutil.which("pg_ctlcluster"):
        if os.geteuid() != 0:
            print("PostgreSQL is not installed and the tests are not root")
            return None
        installed = _run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql")
        if installed.returncode != 0:
            print(f"apt-get install postgresql failed: {installed.stderr[-500:]}")
            return None
    clusters = _run("pg_lsclusters --no-header").stdout.split()
    if len(clusters) < 4:
        print("no PostgreSQL cluster found")
        return None
    version, name, port, status = clusters[:4]
    if status != "online":
        started = _run(f"pg_ctlcluster {version} {name} start")
        if started.returncode != 0:
            print(f"PostgreSQL did not start: {started.stderr[-500:]}")
            return None
    _as_postgres(f"DROP DATABASE IF EXISTS {TEST_DATABASE}")
    _as_postgres(f"DROP ROLE IF EXISTS {TEST_USER}")
    _as_postgres(f"CREATE ROLE {TEST_USER} LOGIN PASSWORD '{TEST_PASSWORD}'")
    created = _as_postgres(f"CREATE DATABASE {TEST_DATABASE} OWNER {TEST_USER}")
    if created.returncode != 0:
        print(f"could not create the test database: {created.stderr[-500:]}")
        return None
    return f"postgresql://{TEST_USER}:{TEST_PASSWORD}@127.0.0.1:{port}/{TEST_DATABASE}"
