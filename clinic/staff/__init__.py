"""Staff tools (run as `scripts/staff.sh <command>`): check the content, retrain and reload the running
assistant, roll back, and the unanswered-questions and content-quality reports."""
