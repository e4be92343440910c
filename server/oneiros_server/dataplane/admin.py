"""The operators' side of the repository (``ModelRepository`` service), for any transport.

Loads and unloads block (hashing files, warming engines, draining calls), so they run on
worker threads; the event loop keeps serving. In ``none`` control mode the API is refused.
"""

from __future__ import annotations

import asyncio

from oneiros_server.errors import NotLoaded
from oneiros_server.repository import ModelRepository, ModelVersion


class RepositoryAdmin:
    """Load, unload and list the repository's models on request, off the event loop (see the module docstring)."""

    def __init__(self, repository: ModelRepository):
        self.repository = repository

    def _check_mode(self) -> None:
        mode = self.repository.settings.model_control_mode
        if mode == "none":
            raise NotLoaded(
                "the model repository is read once at start (--model-control-mode none);"
                " start the server with --model-control-mode poll or explicit to load and unload models"
            )

    async def load(self, name: str, version: str = "") -> list[ModelVersion]:
        """Load ``name``'s version (every version when empty); answers when each is READY or failed."""
        self._check_mode()
        await asyncio.get_running_loop().run_in_executor(None, self.repository.load, name, version)
        return [m for m in self.repository.index() if m.name == name]

    async def unload(self, name: str, version: str = "") -> list[ModelVersion]:
        """Stop new calls to ``name``'s version (every version when empty); calls in flight finish."""
        self._check_mode()
        await asyncio.get_running_loop().run_in_executor(None, self.repository.unload, name, version)
        return [m for m in self.repository.index() if m.name == name]

    async def index(self) -> list[ModelVersion]:
        """Every model and version on disk or in memory, with its state."""
        self._check_mode()
        return await asyncio.get_running_loop().run_in_executor(None, self.repository.index)
