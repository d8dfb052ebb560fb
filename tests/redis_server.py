"""A real Redis server on 127.0.0.1 for tests: Debian's package, installed if missing, started on a
port of its own and stopped afterwards."""
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import redis

TEST_REDIS_PORT = 6391


@contextmanager
def running_redis(workdir: Path) -> Iterator[Optional[str]]:
    """Yields a redis:// URL, or None (with the reason printed) when Redis cannot be had."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    if not shutil.which("redis-server"):
        installed = subprocess.run(
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server",
            shell=True, capture_output=True, text=True, timeout=600,
        ) if os.geteuid() == 0 else None
        if not installed or installed.returncode != 0 or not shutil.which("redis-server"):
            print("Redis is not installed and could not be installed with apt-get")
            yield None
            return
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(TEST_REDIS_PORT), "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=TEST_REDIS_PORT)
        for _ in range(50):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{TEST_REDIS_PORT}/1"
    finally:
        server.terminate()
        server.wait(timeout=10)
