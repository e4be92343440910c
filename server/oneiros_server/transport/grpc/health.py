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


def mark_models(health_: Health, repo: ModelRepository, known: set[str]) -> set[str]:
    """SERVING for each family, and each model ("oneiros.v1.Oneiros/<model>"), with a READY version.

    ``known`` is the model names marked before; returns the names marked now (a model that left
    the repository turns NOT_SERVING)."""
    for family, ready in repo.families_ready().items():
        health_.set(FAMILY_SERVICES[family], SERVING if ready else NOT_SERVING)
    ready_models = {m.name for m in repo.models if m.ready}
    names = {m.name for m in repo.models} | known
    for name in names:
        if name not in FAMILY_SERVICES:  # a model called "Decode" must not shadow the family's status
            health_.set(f"{SERVICE}/{name}", SERVING if name in ready_models else NOT_SERVING)
    return names


def mark_loaded(health_: Health) -> None:
    """Overall SERVING once the server runs and its first loads are done."""
    health_.set(SERVICE, SERVING)
    health_.set("", SERVING)


def mark_waiting(health_: Health) -> None:
    """NOT_SERVING overall until ``mark_loaded`` again (a sibling worker process is starting)."""
    health_.set(SERVICE, NOT_SERVING)
    health_.set("", NOT_SERVING)


def mark_draining(health_: Health) -> None:
    health_.enter_graceful_shutdown()
