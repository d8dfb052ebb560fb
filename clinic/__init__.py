"""Shared server-side code of the clinic FAQ assistant: settings, storage, NLU components, launcher."""
