"""Settings: clinic.yml, overridden by .env and the environment; database URL and API token rules."""
from pathlib import Path

import pytest

from clinic import settings
from clinic.database import database_url
from clinic.settings import PROJECT_ROOT


def test_defaults_come_from_the_settings_file() -> None:
    loaded = settings.load(environ={})
    assert loaded["clinic"]["name"] == "the clinic"
    assert loaded["database"]["url"] == "sqlite:///var/clinic.sqlite"


def test_environment_beats_dotenv_beats_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nCLINIC_PHONE='555-0100'\nCLINIC_NAME=Dotenv Clinic\n")
    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path)
    (tmp_path / "clinic.yml").write_text((PROJECT_ROOT / "clinic.yml").read_text())
    monkeypatch.setenv("CLINIC_NAME", "Env Clinic")
    loaded = settings.load()
    assert loaded["clinic"]["phone"] == "555-0100"
    assert loaded["clinic"]["name"] == "Env Clinic"


def test_production_refuses_to_run_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("CLINIC_ENV", "production")
    with pytest.raises(SystemExit, match="RASA_AUTH_TOKEN"):
        settings.auth_token(settings.load(environ={}))
    monkeypatch.setenv("CLINIC_ENV", "development")
    assert settings.auth_token(settings.load(environ={})) == settings.DEVELOPMENT_AUTH_TOKEN
    assert settings.auth_token(settings.load(environ={"RASA_AUTH_TOKEN": "s3cret"})) == "s3cret"


def test_sqlite_path_is_anchored_at_the_project_and_postgres_urls_pass_through() -> None:
    assert database_url(settings.load(environ={})) == f"sqlite:///{PROJECT_ROOT / 'var' / 'clinic.sqlite'}"
    pg = settings.load(environ={"DATABASE_URL": "postgres://bot:pw@db.internal:5432/clinic"})
    assert database_url(pg) == "postgresql://bot:pw@db.internal:5432/clinic"
    absolute = settings.load(environ={"DATABASE_URL": "sqlite:////srv/clinic/conversations.sqlite"})
    assert database_url(absolute) == "sqlite:////srv/clinic/conversations.sqlite"


def test_lock_store_is_in_memory_by_default_and_redis_by_url() -> None:
    from rasa.core.lock_store import InMemoryLockStore

    from clinic.lock_store import AtomicRedisLockStore, lock_store_for

    assert isinstance(lock_store_for(""), InMemoryLockStore)
    store = lock_store_for("redis://:secret@127.0.0.1:6391/2")
    assert isinstance(store, AtomicRedisLockStore)
    assert store.red.connection_pool.connection_kwargs["db"] == 2
    with pytest.raises(ValueError):
        lock_store_for("memcached://127.0.0.1")


def test_several_workers_without_a_shared_lock_store_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from clinic.lock_store import lock_store_for

    monkeypatch.setenv("SANIC_WORKERS", "2")
    with pytest.raises(ValueError, match="LOCK_STORE_URL"):
        lock_store_for("")
    assert lock_store_for("redis://127.0.0.1:6391/1") is not None
