"""The OpenAI-compatible API (see docs/api.md), split as vLLM splits its own:

* :mod:`~funai.api.openai.errors`: :class:`ApiError`, OpenAI's error shape, and the handler
  of Starlette's own errors;
* :mod:`~funai.api.openai.receipts`: the provisional receipt (message, signature check,
  header encoding) and the ``funai`` extension of an answer;
* :mod:`~funai.api.openai.protocol`: request parsing into a typed ``ParsedRequest``, answer
  bodies, stream chunks and log-probabilities;
* :mod:`~funai.api.openai.models`: the served models (``ModelRegistry``) and the model
  list;
* :mod:`~funai.api.openai.serving`: :class:`OpenAIServing`, answering, forwarding, paying on
  the inference layer (through :class:`funai.node.l2facade.L2Facade`) and streaming;
* :mod:`~funai.api.openai.routes`: the paths, each to its serving method.

Nothing is imported here, so that :mod:`funai.api.forwarding` (which the serving module
uses) can import the errors, protocol and receipts modules without a cycle.
"""
