"""Deployment settings: clinic.yml, overridden by environment variables (and a git-ignored .env)."""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE_ENV = "CLINIC_SETTINGS_FILE"

# Used only outside production, so a developer's assistant starts with no set-up. Its name says what it is.
DEVELOPMENT_AUTH_TOKEN = "dev-only-insecure-token"


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    env: str


SETTINGS = (
    Setting("clinic", "name", "CLINIC_NAME"),
    Setting("clinic", "phone", "CLINIC_PHONE"),
    Setting("clinic", "website", "CLINIC_WEBSITE"),
    Setting("clinic", "address", "CLINIC_ADDRESS"),
    Setting("clinic", "hours", "CLINIC_HOURS"),
    Setting("database", "url", "DATABASE_URL"),
    Setting("database", "lock_store_url", "LOCK_STORE_URL"),
    Setting("server", "host", "RASA_HOST"),
    Setting("server", "rasa_port", "RASA_PORT"),
    Setting("server", "action_port", "ACTION_PORT"),
    Setting("server", "cors_origins", "CORS_ORIGINS"),
    Setting("server", "web_port", "WEB_PORT"),
    Setting("server", "auth_token", "RASA_AUTH_TOKEN"),
    Setting("server", "cached_conversations", "CACHED_CONVERSATIONS"),
    Setting("notify", "smtp_host", "SMTP_HOST"),
    Setting("notify", "smtp_port", "SMTP_PORT"),
    Setting("notify", "smtp_security", "SMTP_SECURITY"),
    Setting("notify", "smtp_user", "SMTP_USER"),
    Setting("notify", "smtp_password", "SMTP_PASSWORD"),
    Setting("notify", "email_from", "NOTIFY_EMAIL_FROM"),
    Setting("notify", "email_to", "NOTIFY_EMAIL_TO"),
    Setting("notify", "webhook_url", "NOTIFY_WEBHOOK_URL"),
    Setting("notify", "webhook_token", "NOTIFY_WEBHOOK_TOKEN"),
    Setting("notify", "retry_minutes", "NOTIFY_RETRY_MINUTES"),
)


def read_dotenv(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines of a .env file; blank lines and # comments are skipped."""
    values: Dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


def load(settings_file: Optional[Path] = None, environ: Optional[Dict[str, str]] = None) -> Dict[str, Dict[str, Any]]:
    """All settings as {section: {key: value}}; environment beats .env beats the settings file."""
    if environ is None:
        environ = {**read_dotenv(PROJECT_ROOT / ".env"), **os.environ}
    path = Path(settings_file or environ.get(SETTINGS_FILE_ENV) or PROJECT_ROOT / "clinic.yml")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    result: Dict[str, Dict[str, Any]] = {}
    for setting in SETTINGS:
        value = (data.get(setting.section) or {}).get(setting.key)
        if environ.get(setting.env, "").strip():
            value = environ[setting.env].strip()
        result.setdefault(setting.section, {})[setting.key] = "" if value is None else str(value)
    return result


def clinic_details(settings: Optional[Dict[str, Dict[str, Any]]] = None) -> Dict[str, str]:
    """The clinic's contact details as slot values (clinic_name, clinic_phone, ...)."""
    clinic = (settings or load())["clinic"]
    return {f"clinic_{key}": value for key, value in clinic.items()}


def is_production(environ: Optional[Dict[str, str]] = None) -> bool:
    return (environ if environ is not None else os.environ).get("CLINIC_ENV", "").lower() == "production"


def auth_token(settings: Optional[Dict[str, Dict[str, Any]]] = None) -> str:
    """The HTTP API token; the development default only outside production."""
    token = (settings or load())["server"]["auth_token"]
    if token:
        return token
    if is_production():
        raise SystemExit("RASA_AUTH_TOKEN must be set when CLINIC_ENV=production.")
    return DEVELOPMENT_AUTH_TOKEN
