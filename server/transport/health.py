"""grpc.health.v1: overall status ("") and one per service and RPC family."""

from __future__ import annotations

from grpc_health.v1 import health, health_pb2

from oneiros_server.repository import ModelRepository
from oneiros_server.repository.manifest import RPC_FAMILIES

SERVICE = "oneiros.v1.Oneiros"
# Per-family names: "oneiros.v1.Oneiros/Decode", ".../Sample", ...
FAMILY_SERVICES = {family: f"{SERVICE}/{family}" for family in RPC_FAMILIES}

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def create_health() -> health.HealthServicer:
    servicer = health.HealthServicer(experimental_non_blocking=True)
    for name in ("", SERVICE, *FAMILY_SERVICES.values()):
        servicer.set(name, NOT_SERVING)
    return servicer


def mark_loaded(servicer: health.HealthServicer, repo: ModelRepository) -> None:
    """SERVING for each family with a ready model; overall SERVING when the server runs."""
    for family, ready in repo.families_ready().items():
        servicer.set(FAMILY_SERVICES[family], SERVING if ready else NOT_SERVING)
    servicer.set(SERVICE, SERVING)
    servicer.set("", SERVING)


def mark_draining(servicer: health.HealthServicer) -> None:
    servicer.enter_graceful_shutdown()
