"""Serving the API with hypercorn's Trio worker."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from funai.api.app import build_app

if TYPE_CHECKING:
    from funai.node.node import Node

__all__ = ["serve_api"]


async def serve_api(
    node: Node, listen: str, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED
) -> None:
    """Serves ``node``'s API on ``listen`` (``host:port``; port 0 picks one).

    Reports the base URL (``http://host:port/v1``) once bound.
    """
    config = Config()
    config.bind = [listen]
    config.accesslog = None
    config.errorlog = logging.getLogger("funai.api")
    config.graceful_timeout = 1.0
    app = build_app(node)

    async def serving(
        *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED
    ) -> None:
        await serve(app, config, task_status=task_status)  # type: ignore[arg-type]

    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(serving)
        nursery.start_soon(_load_models, node, app)  # models served (roles.models)
        task_status.started(binds[0].rstrip("/") + "/v1")


async def _load_models(node: Node, app: Any) -> None:
    """Loads the served models, then gives them to the inference layer's roles."""
    await app.state.inference.load()
    if node.l2 is not None:
        node.l2.attach_models(app.state.inference.models.values())
