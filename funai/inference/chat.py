"""Chat templates: ChatML (the default model's own template) and, where ``jinja2`` is
installed, any Hugging Face ``chat_template`` string."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from funai.inference.errors import GenerationParamsError

__all__ = ["CHATML_DEFAULT_SYSTEM", "ChatTemplate", "Message"]

Message = Mapping[str, str]

CHATML_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
_ROLES = frozenset({"system", "user", "assistant", "tool"})


class ChatTemplate:
    """Renders a list of ``{"role", "content"}`` messages into the model's prompt text.

    ``template`` is the Hugging Face Jinja template string (kept for reference and, when it is
    not ChatML and ``jinja2`` is importable, rendered with it); ChatML templates are rendered
    natively, exactly like the SmolLM2 template: a default system message is inserted when the
    conversation does not start with one.
    """

    def __init__(self, template: str | None, default_system: str | None = None) -> None:
        self.template = template or ""
        self.is_chatml = not self.template or "<|im_start|>" in self.template
        self.default_system = default_system

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        if not messages:
            raise GenerationParamsError("a chat needs at least one message")
        for m in messages:
            if m.get("role") not in _ROLES or not isinstance(m.get("content"), str):
                raise GenerationParamsError(f"bad chat message: {dict(m)!r}")
        if self.is_chatml:
            return self._chatml(messages, add_generation_prompt)
        return self._jinja(messages, add_generation_prompt)

    def _chatml(self, messages: Sequence[Message], add_generation_prompt: bool) -> str:
        parts: list[str] = []
        if messages[0]["role"] != "system" and self.default_system is not None:
            parts.append(f"<|im_start|>system\n{self.default_system}<|im_end|>\n")
        for m in messages:
            parts.append(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n")
        if add_generation_prompt:
            parts.append("<|im_start|>assistant\n")
        return "".join(parts)

    def _jinja(self, messages: Sequence[Message], add_generation_prompt: bool) -> str:
        try:
            import jinja2  # type: ignore[import-not-found, unused-ignore]
        except ImportError:  # pragma: no cover - depends on the environment
            # Without jinja2 fall back to ChatML, which most instruction models understand.
            return self._chatml(messages, add_generation_prompt)
        env: Any = jinja2.Environment(keep_trailing_newline=True)
        tmpl: Any = env.from_string(self.template)
        return str(
            tmpl.render(
                messages=[dict(m) for m in messages],
                add_generation_prompt=add_generation_prompt,
                bos_token="",
                eos_token="",
            )
        )
