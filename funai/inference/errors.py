"""Errors of the inference engine (all :class:`funai.errors.FunaiError`)."""

from __future__ import annotations

from funai.errors import FunaiError, MalformedInputError

__all__ = [
    "FetchError",
    "GenerationParamsError",
    "InferenceError",
    "ModelFormatError",
    "ModelNotFoundError",
    "TokenizerError",
]


class InferenceError(FunaiError):
    """Base class of the inference engine's errors."""


class ModelNotFoundError(InferenceError, FileNotFoundError):
    """No model (or no converted model) where one was expected."""


class ModelFormatError(InferenceError, MalformedInputError):
    """A model file (GGUF, ONNX, config) is corrupt, truncated or of an unsupported kind."""


class TokenizerError(InferenceError):
    """The tokenizer is missing or cannot be built/loaded."""


class FetchError(InferenceError):
    """Downloading or verifying a model package failed."""


class GenerationParamsError(InferenceError, MalformedInputError):
    """Bad generation or judge parameters (a negative temperature, top_p outside (0, 1], ...)."""
