"""OpenTelemetry traces, off unless the standard ``OTEL_*`` environment variables turn them on.

On: ``OTEL_TRACES_EXPORTER=otlp`` (or ``console``), or an OTLP endpoint
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``); the protocol from
``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``http/protobuf``, the
default, or ``grpc``). The SDK reads the rest itself: endpoint, headers, ``OTEL_SERVICE_NAME``
(default here: ``oneiros``), ``OTEL_RESOURCE_ATTRIBUTES``, the sampler and the batching.
``OTEL_SDK_DISABLED=true`` keeps them off. Off, nothing of OpenTelemetry is imported, the
transports get no interceptor or middleware, and ``span`` returns one shared no-op context.

On, each call gets a server span on either transport (continuing an incoming ``traceparent``),
the dataplane adds child spans, and log records made inside a span carry ``trace_id`` and
``span_id``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("oneiros.tracing")
_NOOP = contextlib.nullcontext()
_provider: Any = None  # the SDK's TracerProvider while tracing is on
_tracer: Any = None
_plain_records = logging.getLogRecordFactory()


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether the ``OTEL_*`` variables ask for traces."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER")
    if exporter is not None:
        return exporter.strip().lower() not in ("", "none")
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def from_environment(environ: Mapping[str, str] = os.environ) -> bool:
    """Turn tracing on when the environment asks for it (once per process, after any fork)."""
    if _provider is not None or not wanted(environ):
        return _provider is not None
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = _new_provider()
    provider.add_span_processor(BatchSpanProcessor(_exporter(environ)))
    use(provider)
    log.info("tracing on", extra={"exporter": environ.get("OTEL_TRACES_EXPORTER", "otlp")})
    return True


def _new_provider():
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    if resource.attributes.get("service.name", "").startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "oneiros"}))
    return TracerProvider(resource=resource)


def _exporter(environ: Mapping[str, str]):
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    if protocol.strip().lower() == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    return OTLPSpanExporter()


def use(provider) -> None:
    """Trace with ``provider`` (an SDK TracerProvider; tests pass one with an in-memory exporter),
    or stop tracing with ``None``."""
    global _provider, _tracer
    _provider = provider
    if provider is None:
        _tracer = None
        logging.setLogRecordFactory(_plain_records)
        return
    _tracer = provider.get_tracer("oneiros_server")
    logging.setLogRecordFactory(_record_with_ids)


def active() -> bool:
    return _tracer is not None


def flush() -> None:
    """Send what is buffered (at shutdown)."""
    if _provider is not None:
        _provider.force_flush()


def _record_with_ids(*args, **kwargs) -> logging.LogRecord:
    from opentelemetry import trace

    record = _plain_records(*args, **kwargs)
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        record.trace_id = format(context.trace_id, "032x")
        record.span_id = format(context.span_id, "016x")
    return record


def grpc_interceptors() -> list:
    """The gRPC server interceptor that opens a span per call (none while off)."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor(tracer_provider=_provider)]


def wrap_asgi(app):
    """The HTTP app inside middleware that opens a span per request (as it is while off)."""
    if _provider is None:
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(
        app, excluded_urls="/healthz,/metrics", tracer_provider=_provider, exclude_spans=["receive", "send"]
    )


def span(name: str, attributes: Mapping[str, Any] | None = None):
    """A child span of the current one, as a context manager; a shared no-op while off or outside a
    call's trace (a runtime step of no call opens no trace of its own)."""
    if _tracer is None:
        return _NOOP
    from opentelemetry import trace

    if not trace.get_current_span().get_span_context().is_valid:
        return _NOOP
    return _tracer.start_as_current_span(name, attributes=attributes)


@dataclass(frozen=True)
class Captured:
    """A call's trace context and a moment, carried to the thread that does its work."""

    context: Any
    start_ns: int


def capture() -> Captured | None:
    """The current context and time, for spans that another thread opens later (None while off
    or outside a call's trace)."""
    if _tracer is None:
        return None
    from opentelemetry import context, trace

    if not trace.get_current_span().get_span_context().is_valid:
        return None
    return Captured(context.get_current(), time.time_ns())


def record(name: str, captured: Captured | None, attributes: Mapping[str, Any] | None = None) -> None:
    """A finished child span of ``captured``'s call, from its moment until now (a queue wait)."""
    if _tracer is not None and captured is not None:
        _tracer.start_span(name, captured.context, attributes=attributes, start_time=captured.start_ns).end()


def start(name: str, captured: Captured | None, attributes: Mapping[str, Any] | None = None):
    """A child span of ``captured``'s call, open until ``end`` (None while off)."""
    if _tracer is None or captured is None:
        return None
    return _tracer.start_span(name, captured.context, attributes=attributes)


def end(opened, attributes: Mapping[str, Any] | None = None) -> None:
    if opened is not None:
        opened.set_attributes(attributes or {})
        opened.end()


def carry(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` to run on another thread in the current trace (``fn`` itself while off)."""
    captured = capture()
    if captured is None:
        return fn
    from opentelemetry import context

    def in_trace(*args: Any) -> T:
        token = context.attach(captured.context)
        try:
            return fn(*args)
        finally:
            context.detach(token)

    return in_trace


def run_for(name: str, calls: Sequence[Captured | None], attributes: Mapping[str, Any], fn: Callable[..., T], *args):
    """``fn(*args)`` in a span made current on this thread: a child of the call when it serves one,
    linked to every call (its own trace) when it serves several. Plain ``fn(*args)`` while off."""
    if _tracer is None or not calls or calls[0] is None:
        return fn(*args)
    from opentelemetry import context, trace

    if len(calls) == 1:
        parent = calls[0].context
        links = None
    else:
        parent = context.Context()
        links = [trace.Link(trace.get_current_span(c.context).get_span_context()) for c in calls if c is not None]
    with _tracer.start_as_current_span(name, parent, attributes=attributes, links=links):
        return fn(*args)


def annotate(attributes: Mapping[str, Any]) -> None:
    """Attributes on the current span (the call's server span, in the dataplane); None values skipped."""
    if _tracer is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attributes({k: v for k, v in attributes.items() if v is not None})
