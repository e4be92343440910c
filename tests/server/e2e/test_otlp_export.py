"""The real process, configured only by OTEL_* variables, sends its spans over OTLP/HTTP (from every worker)."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc
from tests.conftest import REPO_ROOT
from tests.lm_tiny import tiny_lm_repository
from tests.waiting import wait_until

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


class Collector(http.server.ThreadingHTTPServer):
    """Takes OTLP/HTTP protobuf exports on /v1/traces, as a collector does, and keeps the spans."""

    def __init__(self):
        self.spans: list[tuple[str, dict, object]] = []  # (service.name, attributes, span)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N805 - the handler, not the server
                body = handler.rfile.read(int(handler.headers["content-length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                    for scope in resource_spans.scope_spans:
                        self.spans.extend((resource.get("service.name"), resource, s) for s in scope.spans)
                handler.send_response(200)
                handler.end_headers()

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_spans_reach_a_collector_from_the_environment_alone():
    collector = Collector()
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_port}",
        "OTEL_SERVICE_NAME": "oneiros-under-test",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "oneiros_server", "--model-repository", str(tiny_lm_repository())]
        + ["--workers", "2", "--port", "0", "--http-port", "-1", "--metrics-port", "-1"],
        cwd=REPO_ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        port = None
        for line in proc.stderr:
            entry = json.loads(line)
            if entry["msg"] == "listening" and "workers" in entry:
                port = entry["address"].rsplit(":", 1)[1]
            if entry["msg"] == "every worker serving":
                break
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        traceparent = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = oneiros_pb2_grpc.OneirosStub(channel)
            stub.Sample(pb.SampleRequest(prompt="And", max_tokens=8), metadata=[("traceparent", traceparent)])

        def ours():
            return [(service, s) for service, _, s in collector.spans if s.trace_id.hex() == TRACE_ID]

        assert wait_until(lambda: {"oneiros.generate", "/oneiros.v1.Oneiros/Sample"} <= {s.name for _, s in ours()})
        assert {service for service, _ in ours()} == {"oneiros-under-test"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        collector.shutdown()
