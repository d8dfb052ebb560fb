"""Custom actions of the clinic FAQ assistant, run by `rasa run actions` (rasa-sdk)."""
