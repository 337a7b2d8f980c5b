"""The integration catalog modules: every entry loads, is consistent, and describes itself completely."""

from __future__ import annotations

import importlib
import re

import pytest

from config.catalog.base import ActionSpec, IntegrationSpec, Params

#: Module -> the constants it must export (and nothing else ending in SPEC).
MODULES = {
    "mailchimp": ("SPEC",),
    "instagram": ("SPEC",),
    "x": ("SPEC",),
    "linkedin": ("SOCIAL_SPEC", "SALES_SPEC"),
    "facebook": ("SPEC",),
    "tiktok": ("SPEC",),
    "zendesk": ("SPEC",),
    "intercom": ("SPEC",),
    "freshdesk": ("SPEC",),
    "google_search_console": ("SPEC",),
    "semrush": ("SPEC",),
    "ahrefs": ("SPEC",),
    "google_analytics": ("SEOMI_SPEC", "DEXTER_SPEC"),
    "mixpanel": ("SPEC",),
    "amplitude": ("SPEC",),
    "salesforce": ("SPEC",),
    "hubspot": ("CRM_SPEC", "MARKETING_SPEC"),
    "pipedrive": ("SPEC",),
    "sendgrid": ("SPEC",),
    "brevo": ("SPEC",),
    "grammarly": ("SPEC",),
    "copy_ai": ("SPEC",),
    "jasper": ("SPEC",),
}

#: Placeholders filled from a credential rather than named by one: Mailchimp's datacenter is the API
#: key's suffix (``…-us21``), read by the client's ``resolve_base_url``.
DERIVED_PLACEHOLDERS = {"mailchimp": {"dc"}}

#: Entries that deliberately share one id: the same GA4 property seen by two agents.
SHARED_IDS = {"google_analytics"}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _specs() -> list[tuple[str, str, IntegrationSpec]]:
    found = []
    for module_name, names in MODULES.items():
        module = importlib.import_module(f"config.catalog.integrations.{module_name}")
        for name in names:
            found.append((module_name, name, getattr(module, name)))
    return found


SPECS = _specs()
ACTIONS = [(spec, action) for _, _, spec in SPECS for action in spec.actions]


def _spec_id(item: tuple[str, str, IntegrationSpec]) -> str:
    return f"{item[0]}.{item[1]}"


def _action_id(item: tuple[IntegrationSpec, ActionSpec]) -> str:
    return f"{item[0].id}.{item[1].name}"


def test_every_catalog_module_is_checked() -> None:
    import pkgutil

    import config.catalog.integrations as package

    assert {m.name for m in pkgutil.iter_modules(package.__path__)} == set(MODULES)


@pytest.mark.parametrize("module_name", MODULES)
def test_module_exports_exactly_the_declared_specs(module_name: str) -> None:
    module = importlib.import_module(f"config.catalog.integrations.{module_name}")
    exported = {n for n, v in vars(module).items() if isinstance(v, IntegrationSpec)}
    assert exported == set(MODULES[module_name])


def test_ids_are_unique_per_module_and_across_modules() -> None:
    owner: dict[str, str] = {}
    for module_name in MODULES:
        specs = [spec for m, _, spec in SPECS if m == module_name]
        ids = [s.id for s in specs]
        if len(set(ids)) != len(ids):
            # Only a deliberately shared entry may repeat, and then it must be the same integration.
            assert set(ids) <= SHARED_IDS, f"{module_name} repeats ids {ids}"
            first = specs[0]
            for other in specs[1:]:
                assert (other.provider, other.base_url, other.credential_fields, other.test_connection) == (
                    first.provider, first.base_url, first.credential_fields, first.test_connection)
        for spec_id in ids:
            assert owner.setdefault(spec_id, module_name) == module_name, f"{spec_id} is declared twice"


@pytest.mark.parametrize("item", SPECS, ids=_spec_id)
def test_entry_is_complete(item: tuple[str, str, IntegrationSpec]) -> None:
    _, _, spec = item
    assert spec.docs_url.startswith("https://")
    assert spec.actions and spec.name
    assert any(f.secret for f in spec.credential_fields)
    names = [f.name for f in spec.credential_fields]
    assert len(names) == len(set(names))
    assert all(f.description for f in spec.credential_fields)


@pytest.mark.parametrize("item", SPECS, ids=_spec_id)
def test_url_placeholders_name_credential_fields(item: tuple[str, str, IntegrationSpec]) -> None:
    _, _, spec = item
    fields = {f.name for f in spec.credential_fields} | DERIVED_PLACEHOLDERS.get(spec.id, set())
    used = set(PLACEHOLDER.findall(spec.base_url)) | set(PLACEHOLDER.findall(spec.test_connection.path))
    assert used <= fields, f"{spec.id}: placeholders {used - fields} are not credential fields"
    assert spec.test_connection.method in {"GET", "POST"}


@pytest.mark.parametrize("item", SPECS, ids=_spec_id)
def test_oauth_entries_keep_client_secret_and_tokens_secret(item: tuple[str, str, IntegrationSpec]) -> None:
    _, _, spec = item
    fields = {f.name: f for f in spec.credential_fields}
    if spec.auth == "oauth2":
        assert "client_id" in fields and not fields["client_id"].secret
    for name in ("client_secret", "refresh_token", "access_token", "api_key", "api_token", "secret_key"):
        if name in fields:
            assert fields[name].secret, f"{spec.id}.{name} must be secret"


@pytest.mark.parametrize("item", SPECS, ids=_spec_id)
def test_restricted_entry_has_a_reason(item: tuple[str, str, IntegrationSpec]) -> None:
    _, _, spec = item
    if spec.availability == "restricted":
        assert spec.reason and len(spec.reason) > 20


@pytest.mark.parametrize("item", ACTIONS, ids=_action_id)
def test_action_declares_params_description_and_schema(item: tuple[IntegrationSpec, ActionSpec]) -> None:
    _, action = item
    assert issubclass(action.params, Params)
    assert len(action.description) > 15
    schema = action.schema_json()
    assert schema["type"] == "object"
    assert schema.get("additionalProperties") is False, "Params must forbid unknown fields"
    for name, prop in schema.get("properties", {}).items():
        assert prop.get("description") or "$ref" in prop or "allOf" in prop, f"{name} has no description"


@pytest.mark.parametrize("item", [a for a in ACTIONS if a[1].side_effect], ids=_action_id)
def test_side_effect_action_takes_a_params_model(item: tuple[IntegrationSpec, ActionSpec]) -> None:
    _, action = item
    assert issubclass(action.params, Params)
    assert action.params.model_fields, "a side effect needs parameters to say what to change"


@pytest.mark.parametrize("item", [a for a in ACTIONS if a[1].restricted is not None], ids=_action_id)
def test_restricted_action_says_why(item: tuple[IntegrationSpec, ActionSpec]) -> None:
    _, action = item
    assert action.restricted and len(action.restricted) > 20


@pytest.mark.parametrize("item", [a for a in ACTIONS if a[1].name.startswith(("list_", "search_"))],
                         ids=_action_id)
def test_list_and_search_actions_take_a_limit(item: tuple[IntegrationSpec, ActionSpec]) -> None:
    _, action = item
    limit = action.params.model_fields.get("limit")
    assert limit is not None and limit.annotation is int and isinstance(limit.default, int)


def test_params_reject_unknown_fields() -> None:
    from config.catalog.integrations import zendesk

    params = zendesk.SPEC.action("search_tickets").params
    assert params(query="status:open").limit == 50
    with pytest.raises(ValueError):
        params(query="status:open", colour="red")


def test_expected_restrictions_are_declared() -> None:
    from config.catalog.integrations import amplitude, hubspot, intercom, linkedin, mixpanel, tiktok

    assert tiktok.SPEC.action("trending_hashtags").restricted
    assert hubspot.MARKETING_SPEC.action("send_single_email").restricted
    assert mixpanel.SPEC.action("flows").restricted
    assert amplitude.SPEC.action("predictive_analytics").restricted
    assert intercom.SPEC.action("run_workflow").restricted
    sales = linkedin.SALES_SPEC
    assert sales.action("get_company_insights").restricted is None
    for name in ("prospect_search", "send_message"):
        assert "partner" in (sales.action(name).restricted or "").lower()
    assert all(a.restricted for a in sales.actions if a.name.startswith("sales_navigator_"))


def test_plan_gated_entries_stay_available_with_a_reason() -> None:
    from config.catalog.integrations import ahrefs, grammarly, semrush

    for spec in (ahrefs.SPEC, grammarly.SPEC, semrush.SPEC):
        assert spec.availability == "available" and spec.reason
    assert "Enterprise or Education" in grammarly.SPEC.reason
    assert "2024" in grammarly.SPEC.reason


def test_cross_field_rules_are_enforced() -> None:
    from config.catalog.integrations import brevo, linkedin

    insights = linkedin.SALES_SPEC.action("get_company_insights").params
    assert insights(vanity_name="acme").vanity_name == "acme"
    with pytest.raises(ValueError):
        insights()
    send = brevo.SPEC.action("send_transactional_email").params
    with pytest.raises(ValueError):
        send(to=[{"email": "a@example.com"}], subject="Hi")
