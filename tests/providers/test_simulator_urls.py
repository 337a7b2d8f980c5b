"""The simulator URL table used by ``make run`` and docker-compose matches what the tests exercise."""

from __future__ import annotations

from config.catalog import agents
from simulator.urls import BASES, TOKENS, settings_env
from tests.providers.cases import all_cases


def test_every_case_base_and_token_path_is_in_the_table() -> None:
    for case in all_cases():
        assert BASES[case.spec.provider] == case.sim_prefix, case.id
        assert TOKENS.get(case.spec.provider) == case.token_path, case.id


def test_every_provider_of_the_catalog_has_a_simulator_base() -> None:
    assert {i.provider for a in agents() for i in a.integrations} == set(BASES)


def test_env_names_are_settings_keys() -> None:
    from config.settings import Settings

    env = settings_env("http://sim:8100/")
    settings = Settings(provider_root=env["SINTRA_PROVIDER_ROOT"])
    assert settings.provider_token_url("x") == "http://sim:8100" + TOKENS["x"]
    assert settings.provider_url("mailchimp") == "http://sim:8100" + BASES["mailchimp"]
    assert settings.provider_token_url("mailchimp") is None


def test_a_per_provider_override_wins_over_the_root() -> None:
    from config.settings import Settings

    settings = Settings(provider_root="http://sim:8100", provider_urls={"zendesk": "http://proxy/z/"})
    assert settings.provider_url("zendesk") == "http://proxy/z"
    assert settings.provider_url("intercom") == "http://sim:8100" + BASES["intercom"]
    assert Settings().provider_url("intercom") is None
