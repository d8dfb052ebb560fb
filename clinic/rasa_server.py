"""`rasa run` with the HTTP API token read from the environment (RASA_AUTH_TOKEN) instead of the
command line, where every user of the machine could read it (`ps`, /proc/<pid>/cmdline).

    python -m clinic.rasa_server --model ... --enable-api     (other `rasa run` arguments as usual)
"""
import os
import sys

from rasa.__main__ import main

if __name__ == "__main__":
    token = os.environ.get("RASA_AUTH_TOKEN", "")
    # Rewritten inside this process only: /proc/<pid>/cmdline keeps the arguments it was started with.
    sys.argv = ["rasa", "run", *sys.argv[1:], *(["--auth-token", token] if token else [])]
    main()
