"""grpc.health.v1 on the event loop: overall status ("") and one per service and RPC family.

``Health`` wraps grpc's asyncio health servicer with plain methods that any thread
may call (the model loader, the SIGTERM handler, tests): they run on the loop.
"""

from __future__ import annotations

import asyncio

from grpc_health.v1 import health, health_pb2

from oneiros_server.repository import ModelRepository
from oneiros_server.repository.manifest import RPC_FAMILIES

SERVICE = "oneiros.v1.Oneiros"
# Per-family names: "oneiros.v1.Oneiros/Decode", ".../Sample", ...
FAMILY_SERVICES = {family: f"{SERVICE}/{family}" for family in RPC_FAMILIES}

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Health:
    """The health servicer of one server, bound to its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.servicer = health.aio.HealthServicer()
        for name in ("", SERVICE, *FAMILY_SERVICES.values()):
            self.set(name, NOT_SERVING)

    def _run(self, coroutine) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.loop.create_task(coroutine)
        elif not self.loop.is_running():  # before the server starts
            self.loop.run_until_complete(coroutine)
        else:
            asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def set(self, service: str, status) -> None:
        self._run(self.servicer.set(service, status))

    def enter_graceful_shutdown(self) -> None:
        """NOT_SERVING everywhere, for good."""
        self._run(self.servicer.enter_graceful_shutdown())


def mark_loaded(health_: Health, repo: ModelRepository) -> None:
    """SERVING for each family with a ready model; overall SERVING when the server runs."""
    for family, ready in repo.families_ready().items():
        health_.set(FAMILY_SERVICES[family], SERVING if ready else NOT_SERVING)
    health_.set(SERVICE, SERVING)
    health_.set("", SERVING)


def mark_waiting(health_: Health) -> None:
    """NOT_SERVING everywhere until ``mark_loaded`` (a sibling worker process is starting)."""
    for name in ("", SERVICE, *FAMILY_SERVICES.values()):
        health_.set(name, NOT_SERVING)


def mark_draining(health_: Health) -> None:
    health_.enter_graceful_shutdown()
