"""The spans of a Decode, a Sample and a Dream call on the default models, printed as trees.

    python -m bench.trace_tree

An in-process server with the OpenTelemetry SDK's in-memory exporter (what an OTLP collector
would receive, without one); each call continues a ``traceparent`` as a caller's would. The
output is what docs/operations.md shows.
"""

from __future__ import annotations

import io
import time

import grpc
import numpy as np
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from PIL import Image

from bench.common import REPO, machine
from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc
from oneiros_server.app import OneirosServer
from oneiros_server.observability import tracing
from oneiros_server.settings import Settings


def _png(side: int) -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _tree(spans, trace_id: int) -> list[str]:
    mine = [s for s in spans if s.context.trace_id == trace_id]
    children: dict = {}
    for span in mine:
        root = span.parent is None or span.parent.is_remote  # the caller's span is not ours
        children.setdefault(None if root else span.parent.span_id, []).append(span)
    lines: list[str] = []

    def walk(parent, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s.start_time):
            ms = (span.end_time - span.start_time) / 1e6
            keys = ("oneiros.model", "oneiros.model_version", "oneiros.model_kind", "oneiros.outcome")
            keys += ("oneiros.queue", "oneiros.batch.size", "oneiros.step", "oneiros.runtime.graph")
            attrs = " ".join(f"{k.removeprefix('oneiros.')}={span.attributes[k]}" for k in keys if k in span.attributes)
            lines.append(f"{'  ' * depth}{span.name}  {ms:.2f} ms  {attrs}".rstrip())
            walk(span.context.span_id, depth + 1)

    walk(None, 0)
    return lines


def main() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    settings = Settings(host="127.0.0.1", port=0, http_port=-1, metrics_port=-1, model_repository=REPO / "models")
    server = OneirosServer(settings)
    server.start()
    calls = {
        "Decode": lambda stub, md: stub.Decode(pb.DecodeRequest(count=1, seed=1), metadata=md),
        "Sample": lambda stub, md: stub.Sample(pb.SampleRequest(prompt="And", max_tokens=20, seed=1), metadata=md),
        "Dream": lambda stub, md: stub.Dream(
            pb.DreamRequest(image=pb.Image(data=_png(96)), max_side=96, octaves=1, steps_per_octave=3), metadata=md
        ),
    }
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = oneiros_pb2_grpc.OneirosStub(channel)
            for i, (name, call) in enumerate(calls.items(), start=1):
                trace_id = f"{i:032x}"
                call(stub, [("traceparent", f"00-{trace_id}-{i:016x}-01")])
                ended = time.monotonic() + 5  # the server span ends just after the response is sent
                while time.monotonic() < ended and not any(
                    sp.context.trace_id == int(trace_id, 16) and sp.parent.is_remote
                    for sp in exporter.get_finished_spans()
                ):
                    time.sleep(0.01)
                print(f"{name} (trace {trace_id}):")
                print("\n".join(_tree(exporter.get_finished_spans(), int(trace_id, 16))), end="\n\n")
    finally:
        server.stop(grace=0)
        tracing.use(None)
    print(f"{machine()['cpu']}")


if __name__ == "__main__":
    main()
