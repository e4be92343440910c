"""OpenTelemetry: off by default; on, a server span per call on both transports, continuing the caller's trace."""

from __future__ import annotations

import logging

import grpc
import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.observability import tracing
from tests.lm_tiny import tiny_lm_repository
from tests.waiting import wait_until

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    yield exporter
    tracing.use(None)


def _server_span(exporter: InMemorySpanExporter):
    assert wait_until(lambda: any(s.kind == SpanKind.SERVER for s in exporter.get_finished_spans()), 10)
    (span,) = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    return span


def _continues_the_callers_trace(span) -> None:
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert format(span.parent.span_id, "016x") == PARENT_ID


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_the_standard_variables_turn_tracing_on(environ, on):
    assert tracing.wanted(environ) is on


def test_off_by_default_and_free():
    assert tracing.from_environment({}) is False
    assert not tracing.active()
    assert tracing.span("validate") is tracing.span("encode")  # one shared no-op
    assert tracing.grpc_interceptors() == []
    app = object()
    assert tracing.wrap_asgi(app) is app


def test_a_grpc_call_gets_a_server_span_in_the_callers_trace(serve, spans, caplog):
    running = serve(tiny_lm_repository())
    request = pb.SampleRequest(prompt="And", max_tokens=4, seed=1)
    running.stub.Sample(request, metadata=[("traceparent", TRACEPARENT)], timeout=30)
    span = _server_span(spans)
    _continues_the_callers_trace(span)
    assert span.name == "/oneiros.v1.Oneiros/Sample"
    assert span.attributes["oneiros.rpc"] == "Sample"
    assert span.attributes["oneiros.outcome"] == "OK"
    spans.clear()
    with caplog.at_level(logging.INFO, logger="oneiros.calls"):
        with pytest.raises(grpc.RpcError):
            running.stub.Sample(
                pb.SampleRequest(prompt="And", temperature=-1), metadata=[("traceparent", TRACEPARENT)], timeout=30
            )
        span = _server_span(spans)
    assert span.attributes["oneiros.outcome"] == "INVALID_ARGUMENT"
    (record,) = [r for r in caplog.records if r.getMessage() == "call"]
    assert (record.trace_id, record.span_id) == (TRACE_ID, format(span.context.span_id, "016x"))


def test_an_http_call_gets_a_server_span_in_the_callers_trace(serve, spans):
    running = serve(tiny_lm_repository())
    body = {"prompt": "And", "max_tokens": 4, "seed": 1}
    response = httpx.post(f"{running.http_url}/v1/sample", json=body, headers={"traceparent": TRACEPARENT}, timeout=30)
    assert response.status_code == 200
    span = _server_span(spans)
    _continues_the_callers_trace(span)
    assert span.attributes["oneiros.rpc"] == "Sample"
    assert span.attributes["oneiros.outcome"] == "OK"
