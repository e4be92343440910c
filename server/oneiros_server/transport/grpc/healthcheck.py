"""``python -m oneiros_server.transport.grpc.healthcheck [target] [service]``: exit 0 when grpc.health.v1 says SERVING.

Used by the container's HEALTHCHECK; Kubernetes uses its built-in gRPC probe instead.
"""

from __future__ import annotations

import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: list[str]) -> int:
    target = argv[0] if argv else f"localhost:{os.environ.get('ONEIROS_PORT', '50051')}"
    service = argv[1] if len(argv) > 1 else ""
    try:
        with grpc.insecure_channel(target) as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=3
            )
    except grpc.RpcError as exc:
        print(f"unhealthy: {exc.code().name}", file=sys.stderr)
        return 1
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    print(name)
    return 0 if response.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
