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


def test_variable_names_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("sintra_Log_Level", "DEBUG")
    assert Settings().log_level == "DEBUG"


def test_list_and_dict_settings_are_json_and_a_dict_also_takes_one_key_per_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SINTRA_WEBHOOK_ALLOW_HOSTS", '["hooks.internal", "10.0.0.5"]')
    monkeypatch.setenv("SINTRA_PROVIDER_URLS", '{"Zendesk": "http://proxy/z/"}')
    monkeypatch.setenv("SINTRA_PROVIDER_URLS__HubSpot", "http://proxy/h")
    monkeypatch.setenv("SINTRA_OAUTH_IDLE_EXPIRY_DAYS__SALESFORCE", "90")
    s = Settings()
    assert s.webhook_allow_hosts == ["hooks.internal", "10.0.0.5"]
    assert s.provider_urls == {"zendesk": "http://proxy/z", "hubspot": "http://proxy/h"}
    assert s.oauth_idle_expiry_days == {"salesforce": 90}


def test_a_list_setting_that_is_not_json_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SINTRA_WEBHOOK_ALLOW_HOSTS", "a.example,b.example")
    with pytest.raises(ValueError, match="webhook_allow_hosts.*SINTRA_WEBHOOK_ALLOW_HOSTS: JSON expected"):
        Settings()


def test_keyword_arguments_win_over_the_environment_and_dicts_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SINTRA_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("SINTRA_PROVIDER_URLS__MAILCHIMP", "http://proxy/mc")
    monkeypatch.setenv("SINTRA_WORKER_CONCURRENCY", "0")  # invalid, but not read: the keyword wins
    s = Settings(log_level="ERROR", provider_urls={"zendesk": "http://proxy/z"}, worker_concurrency=4)
    assert (s.log_level, s.worker_concurrency) == ("ERROR", 4)
    assert s.provider_urls == {"mailchimp": "http://proxy/mc", "zendesk": "http://proxy/z"}


def test_settings_do_not_load_pydantic_settings() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("import sys, config.settings as s; s.get_settings(); "
            "print(sorted(m for m in sys.modules if m.startswith(('pydantic_settings', 'dotenv'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
