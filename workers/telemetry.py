"""Tracing setup for a process: which OpenTelemetry exporter, if any (``SINTRA_TRACING``)."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace


def configure_tracing(exporter: str, service: str) -> bool:
    """Install an SDK tracer provider exporting to ``console`` or ``otlp``; ``""`` leaves tracing off."""
    if not exporter:
        return False
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        raise RuntimeError("SINTRA_TRACING needs the opentelemetry-sdk package") from None
    if exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise RuntimeError("SINTRA_TRACING=otlp needs opentelemetry-exporter-otlp-proto-http") from None
        span_exporter: Any = OTLPSpanExporter()  # OTEL_EXPORTER_OTLP_ENDPOINT and friends configure it
    else:
        span_exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    return True
