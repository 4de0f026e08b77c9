"""The OpenAI-compatible routes: each path to its :class:`OpenAIServing` method."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from funai.api.openai.models import ModelRegistry
from funai.api.openai.serving import OpenAIServing

if TYPE_CHECKING:
    from funai.node.node import Node

__all__ = ["openai_routes"]


def openai_routes(service: ModelRegistry, node: Node | None) -> list[Route]:
    """``POST /v1/chat/completions``, ``POST /v1/completions``, ``GET /v1/models``,
    ``GET /v1/models/{model}`` and the routing quote ``POST /v1/l2/quote`` over ``service``."""
    serving = OpenAIServing(service, node)

    async def chat_completions(request: Request) -> Response:
        return await serving.create_completion(request, chat=True)

    async def completions(request: Request) -> Response:
        return await serving.create_completion(request, chat=False)

    async def models(request: Request) -> Response:
        return await serving.list_models()

    async def model_get(request: Request) -> Response:
        return await serving.show_model(request.path_params["model"])

    async def quote(request: Request) -> Response:
        return await serving.quote(request)

    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/models", models),
        Route("/v1/l2/quote", quote, methods=["POST"]),
        Route("/v1/models/{model:path}", model_get),
    ]
