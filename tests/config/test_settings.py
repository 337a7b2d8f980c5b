"""Settings come from SINTRA_* variables, with named defaults."""

from __future__ import annotations

import pytest

from config.settings import Settings


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SINTRA_DATABASE_URL", "SINTRA_LOG_FORMAT", "SINTRA_ENV"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert s.db_url == "sqlite:///.sintra/sintra.db" and s.log_format == "console"


def test_environment_overrides_and_nested_provider_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SINTRA_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("SINTRA_PROVIDER_URLS__MAILCHIMP", "http://proxy:8100/mc/")
    s = Settings()
    assert s.db_url == "postgresql://u@h/db"
    assert s.provider_urls["mailchimp"] == "http://proxy:8100/mc"


def test_production_logs_are_json_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SINTRA_LOG_FORMAT", raising=False)
    monkeypatch.setenv("SINTRA_ENV", "prod")
    assert Settings().log_format == "json"
    monkeypatch.setenv("SINTRA_LOG_FORMAT", "console")
    assert Settings().log_format == "console"


def test_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SINTRA_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings()
