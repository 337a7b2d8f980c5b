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

    env = settings_env("http://sim:8100")
    settings = Settings(provider_urls={k.split("__", 1)[1]: v for k, v in env.items()})
    assert settings.provider_urls["x_token"] == "http://sim:8100/x/2/oauth2/token"
