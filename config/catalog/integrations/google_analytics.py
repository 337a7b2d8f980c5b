"""Google Analytics 4 Data API, as Seomi (SEO reports) and Dexter (data analysis) use it.

Both entries share the id ``google_analytics`` and the same credentials; each agent sees its own actions.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from config.catalog.base import CredentialField, IntegrationSpec, Params, act, examples, field, token

#: GA4 date: YYYY-MM-DD, today, yesterday or NdaysAgo.
DATE_PATTERN = r"^(\d{4}-\d{2}-\d{2}|today|yesterday|\d+daysAgo)$"

StartDate = Field(default="28daysAgo", pattern=DATE_PATTERN, description="YYYY-MM-DD, today, yesterday or "
                                                                         "NdaysAgo.")
EndDate = Field(default="yesterday", pattern=DATE_PATTERN, description="YYYY-MM-DD, today, yesterday or "
                                                                       "NdaysAgo.")
RowLimit = Field(default=1000, ge=1, le=250_000, description="Maximum rows (paged with offset).")


def _dims(*names: str) -> Any:
    return Field(default_factory=lambda: list(names), max_length=9, description="GA4 dimension API names.")


def _metrics(*names: str) -> Any:
    return Field(default_factory=lambda: list(names), min_length=1, max_length=10,
                 description="GA4 metric API names.")


class OrganicTraffic(Params):
    """Parameters of ``organic_traffic_report``."""

    model_config = examples({"start_date": "28daysAgo", "end_date": "yesterday", "limit": 100})

    start_date: str = StartDate
    end_date: str = EndDate
    dimensions: list[str] = _dims("date", "landingPagePlusQueryString")
    metrics: list[str] = _metrics("sessions", "totalUsers", "engagedSessions", "keyEvents")
    limit: int = RowLimit


class UserBehavior(Params):
    """Parameters of ``user_behavior_report``."""

    model_config = examples({"organic_only": True, "limit": 50})

    start_date: str = StartDate
    end_date: str = EndDate
    dimensions: list[str] = _dims("pagePath")
    metrics: list[str] = _metrics("screenPageViews", "userEngagementDuration", "engagementRate", "bounceRate")
    organic_only: bool = Field(default=True, description="Only sessions from Organic Search.")
    limit: int = RowLimit


class Conversions(Params):
    """Parameters of ``conversions_report``."""

    model_config = examples({"event_names": ["purchase", "sign_up"]})

    start_date: str = StartDate
    end_date: str = EndDate
    event_names: list[str] = Field(default_factory=list, description="Key events to include; all when empty.")
    dimensions: list[str] = _dims("eventName", "sessionDefaultChannelGroup")
    metrics: list[str] = _metrics("keyEvents", "totalRevenue")
    limit: int = RowLimit


class CustomReport(Params):
    """Parameters of ``run_custom_report`` (a runReport request in short form)."""

    model_config = examples(
        {"metrics": ["activeUsers", "sessions"], "dimensions": ["country"], "start_date": "7daysAgo",
         "order_bys": [{"metric": {"metricName": "sessions"}, "desc": True}]},
    )

    start_date: str = StartDate
    end_date: str = EndDate
    dimensions: list[str] = Field(default_factory=list, max_length=9, description="GA4 dimension API names.")
    metrics: list[str] = Field(min_length=1, max_length=10, description="GA4 metric API names.")
    dimension_filter: dict[str, Any] | None = Field(default=None, description="GA4 FilterExpression (JSON).")
    metric_filter: dict[str, Any] | None = Field(default=None, description="GA4 FilterExpression (JSON).")
    order_bys: list[dict[str, Any]] = Field(default_factory=list, description="GA4 OrderBy objects.")
    keep_empty_rows: bool = Field(default=False, description="Keep rows whose metrics are all zero.")
    limit: int = RowLimit


class Traffic(Params):
    """Parameters of ``traffic_report``."""

    model_config = examples({"start_date": "14daysAgo"})

    start_date: str = StartDate
    end_date: str = EndDate
    dimensions: list[str] = _dims("date", "sessionDefaultChannelGroup")
    metrics: list[str] = _metrics("sessions", "totalUsers", "newUsers", "screenPageViews", "engagementRate")
    limit: int = RowLimit


class CustomEvents(Params):
    """Parameters of ``custom_events_report``."""

    model_config = examples({"event_names": ["sign_up", "add_to_cart"]})

    event_names: list[str] = Field(min_length=1, description="Event names to report on.")
    start_date: str = StartDate
    end_date: str = EndDate
    dimensions: list[str] = _dims("eventName", "date")
    metrics: list[str] = _metrics("eventCount", "totalUsers", "eventCountPerUser")
    limit: int = RowLimit


class Realtime(Params):
    """Parameters of ``run_realtime_report``."""

    model_config = examples({"dimensions": ["country"], "metrics": ["activeUsers"]})

    dimensions: list[str] = _dims("country", "unifiedScreenName")
    metrics: list[str] = _metrics("activeUsers")
    minutes_ago_start: int = Field(default=29, ge=0, le=59, description="Window start (59 on GA360).")
    minutes_ago_end: int = Field(default=0, ge=0, le=59, description="Window end.")
    limit: int = Field(default=100, ge=1, le=100_000, description="Maximum rows (one request: realtime "
                                                                  "reports have no offset).")

    @model_validator(mode="after")
    def _window_in_order(self) -> Realtime:
        if self.minutes_ago_start < self.minutes_ago_end:
            raise ValueError("minutes_ago_start must be >= minutes_ago_end (it is the older edge)")
        return self


class FunnelStep(Params):
    """One funnel step: users who triggered an event."""

    name: str = Field(min_length=1, description="Step label.")
    event_name: str = Field(min_length=1, description="Event that completes the step.")


class Funnel(Params):
    """Parameters of ``run_funnel_report``."""

    model_config = examples(
        {"steps": [{"name": "Visit", "event_name": "session_start"}, {"name": "Cart", "event_name": "add_to_cart"},
                   {"name": "Buy", "event_name": "purchase"}]},
    )

    steps: list[FunnelStep] = Field(min_length=2, max_length=10, description="Steps in order.")
    start_date: str = StartDate
    end_date: str = EndDate
    open_funnel: bool = Field(default=False, description="Users may enter at any step.")
    breakdown_dimension: str | None = Field(default=None, description="Dimension to break each step down by.")


def google_oauth(scope: str) -> tuple[CredentialField, ...]:
    """The Google OAuth client and tokens every Google API integration takes (``scope``: of the refresh token)."""
    return (
        field("client_id", description="Google OAuth client id.",
              example="123456789012-abc123.apps.googleusercontent.com"),
        field("client_secret", secret=True, description="Google OAuth client secret.",
              example="GOCSPX-0000000000000000000000000000"),
        token("refresh_token", description=f"Refresh token with {scope}.",
              example="1//0000000000000000000000"),
        token("access_token", description="Current access token, if any.",
              example="ya29.0000000000000000"),
    )


def _credentials() -> tuple[CredentialField, ...]:
    return (
        *google_oauth("analytics.readonly"),
        field("property_id", description="Numeric GA4 property id.",
              pattern=r"(?:properties/)?\d{5,15}", pattern_hint="the numeric GA4 property id",
              example="123456789"),
    )


def _spec(name: str, actions: tuple[Any, ...]) -> IntegrationSpec:
    return IntegrationSpec(
        id="google_analytics", provider="google_analytics", name=name,
        credential_fields=_credentials(), implemented=True,
        actions=actions)


_CUSTOM = act("run_custom_report", "Any GA4 report: dimensions, metrics, filters and ordering "
              "(POST /v1beta/properties/{property_id}:runReport).", CustomReport)

SEOMI_SPEC = _spec("Google Analytics 4 (SEO)", (
    act("organic_traffic_report", "Sessions, users, engagement and key events from Organic Search by landing "
        "page and day (runReport filtered on sessionDefaultChannelGroup = Organic Search).", OrganicTraffic),
    act("user_behavior_report", "Page views, engagement time, engagement and bounce rates by page "
                                "(runReport).",
        UserBehavior),
    act("conversions_report", "Key events and revenue by event and channel (runReport).", Conversions),
    _CUSTOM,
))

DEXTER_SPEC = _spec("Google Analytics 4", (
    act("traffic_report", "Sessions, users, new users, views and engagement by day and channel (runReport).",
        Traffic),
    act("custom_events_report", "Counts of chosen events by event and day (runReport with an eventName "
        "filter).", CustomEvents),
    act("run_realtime_report", "Active users in the last 30 minutes (POST "
        "/v1beta/properties/{property_id}:runRealtimeReport).", Realtime),
    act("run_funnel_report", "Step-by-step completion and drop-off of a funnel (POST "
        "/v1alpha/properties/{property_id}:runFunnelReport; alpha API, may change).", Funnel),
    _CUSTOM,
))
