"""`rasa run` with the HTTP API token read from the environment (RASA_AUTH_TOKEN) instead of the
command line, where every user of the machine could read it (`ps`, /proc/<pid>/cmdline), and one
BLAS thread per process.

    python -m clinic.rasa_server --model ... --enable-api     (other `rasa run` arguments as usual)
"""
import os
import sys

# One BLAS thread (before numpy loads): the server handles one message at a time per process, and
# OpenBLAS's idle threads spin between the classifier's small products, doubling the CPU a message
# costs (bench/latency.py: 24.8 -> 12.1 ms) and taking the cores other server processes need.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from rasa.__main__ import main  # noqa: E402

if __name__ == "__main__":
    token = os.environ.get("RASA_AUTH_TOKEN", "")
    # Rewritten inside this process only: /proc/<pid>/cmdline keeps the arguments it was started with.
    sys.argv = ["rasa", "run", *sys.argv[1:], *(["--auth-token", token] if token else [])]
    main()
