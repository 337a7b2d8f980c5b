"""The shared cross-field rules of the catalog's parameter models (``exactly_one``, ``ordered``, ``some_change``).

Each is written once in config/catalog/base.py and assigned in many models; these check them through real
catalog models, so a model that lost its rule (or a rule that stopped working) fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from config.catalog.base import ParamError
from config.catalog.integrations import brevo, freshdesk, instagram, intercom, linkedin, pipedrive, tiktok, zendesk


def refusal(model: Any, data: dict[str, Any], context: dict[str, Any] | None = None) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data, context=context)
    return str(caught.value)


@pytest.mark.parametrize(("model", "base", "first", "second", "a", "b"), [
    (intercom.TagContact, {"contact_id": "1"}, "tag_id", "tag_name", "7", "vip"),
    (freshdesk.CreateTicket, {"subject": "S", "description": "D"}, "email", "requester_id", "a@b.co", 5),
    (freshdesk.ListSolutionArticles, {}, "folder_id", "term", 3, "reset"),
    (linkedin.GetCompanyInsights, {}, "organization_id", "vanity_name", "123", "acme"),
    (instagram.PublishStory, {}, "image_url", "video_url", "https://x.example/a.jpg", "https://x.example/a.mp4"),
])
def test_exactly_one_refuses_both_and_neither_and_takes_either(
        model: Any, base: dict[str, Any], first: str, second: str, a: Any, b: Any) -> None:
    message = f"give exactly one of {first} or {second}"
    assert message in refusal(model, base)
    assert message in refusal(model, base | {first: a, second: b})
    assert getattr(model.model_validate(base | {first: a}), first) == a
    assert getattr(model.model_validate(base | {second: b}), second) == b


def test_exactly_one_and_ahead_both_hold_on_brevo_mails() -> None:
    mail = {"name": "N", "subject": "S", "sender": {"email": "a@b.co"}, "list_ids": [2]}
    assert "give exactly one of html_content or template_id" in refusal(brevo.CreateEmailCampaign, mail)
    now = {"now": datetime(2030, 1, 1, tzinfo=UTC)}
    with pytest.raises(ValidationError) as caught:
        brevo.CreateEmailCampaign.model_validate(mail | {"template_id": 3, "scheduled_at": "2029-01-01T00:00:00Z"},
                                                 context=now)
    assert "scheduled_at is in the past" in str(caught.value)
    assert brevo.CreateEmailCampaign.model_validate(mail | {"template_id": 3}, context=now).template_id == 3
    sent = {"to": [{"email": "a@b.co"}], "html_content": "<p>x</p>", "template_id": 1}
    assert "give exactly one of html_content or template_id" in refusal(brevo.SendTransactionalEmail, sent)


@pytest.mark.parametrize("model", [tiktok.PerformanceAnalytics, tiktok.AudienceInsights,
                                   linkedin.GetOrganizationStatistics])
def test_ordered_refuses_a_range_ending_before_it_starts_naming_end_date(model: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({"start_date": "2030-01-10", "end_date": "2030-01-09"})
    cause = caught.value.errors()[0]["ctx"]["error"]
    assert isinstance(cause, ParamError) and cause.field == "end_date"
    assert "end_date is before start_date" in str(caught.value)
    assert model.model_validate({"start_date": "2030-01-09", "end_date": "2030-01-09"}).end_date.day == 9


@pytest.mark.parametrize(("model", "key", "change"), [
    (zendesk.UpdateTicket, {"ticket_id": 1}, {"status": "solved"}),
    (freshdesk.UpdateTicket, {"ticket_id": 1}, {"priority": 2}),
    (pipedrive.UpdateDeal, {"deal_id": 1}, {"title": "New"}),
])
def test_some_change_refuses_an_update_without_a_change(
        model: Any, key: dict[str, Any], change: dict[str, Any]) -> None:
    assert "give at least one change" in refusal(model, key)
    assert model.model_validate(key | change).model_dump(exclude_none=True).items() >= change.items()
