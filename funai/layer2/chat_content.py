"""One mapping between a chat and an inference transaction's content, used by executor and
verifier alike (rule ``chat-content``).

A chat ``[{"role", "content"}, ...]`` becomes ``(input, context, system_prompt)``:

* ``system_prompt``: the contents of the system messages, joined by newlines;
* ``input``: the content of the last message when it is a non-empty user message, else
  ``""``;
* ``context``: the other non-system messages in order, as compact JSON
  ``[{"content": ..., "role": ...}, ...]`` (keys sorted), or ``""`` when there are none.

:func:`chat_messages` is its inverse on this canonical form: the system message (when not
empty), the context's turns, then the user's input (when not empty), so
``split_chat(chat_messages(*split_chat(chat))) == split_chat(chat)`` for every chat (system
messages move to the front, joined: the chat a model is asked is always the canonical one).
The executor generates from ``chat_messages(*split_chat(chat))`` and the verifier replays
from the same messages, so both render exactly one prompt. A context that is not such a JSON
list (content written by hand) is read as text placed before the input in the user's turn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from funai.inference.chat import Message

__all__ = ["canonical_chat", "chat_messages", "split_chat"]

_TURN_ROLES = frozenset({"user", "assistant", "tool"})


def split_chat(messages: Sequence[Mapping[str, str]]) -> tuple[str, str, str]:
    """``(input, context, system_prompt)`` of a chat (see the module docstring)."""
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"]
    last = ""
    if rest and rest[-1]["role"] == "user" and rest[-1]["content"]:
        last = rest.pop()["content"]
    context = json.dumps(rest, separators=(",", ":"), sort_keys=True) if rest else ""
    return last, context, system


def _turns(context: str) -> list[Message] | None:
    """The turns of a context written by :func:`split_chat`, or None."""
    if not context.startswith("["):
        return None
    try:
        data = json.loads(context)
    except ValueError:
        return None
    if not isinstance(data, list) or not data:
        return None
    out: list[Message] = []
    for m in data:
        if (
            not isinstance(m, dict)
            or set(m) != {"role", "content"}
            or m["role"] not in _TURN_ROLES
            or not isinstance(m["content"], str)
        ):
            return None
        out.append({"role": m["role"], "content": m["content"]})
    return out


def chat_messages(input_text: str, context: str = "", system_prompt: str = "") -> list[Message]:
    """The chat the executor answers and the verifier replays (see the module docstring)."""
    messages: list[Message] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    turns = _turns(context) if context else []
    if turns is None:  # free text: before the input, in the user's turn
        messages.append({"role": "user", "content": f"{context}\n\n{input_text}"})
        return messages
    messages.extend(turns)
    if input_text:
        messages.append({"role": "user", "content": input_text})
    return messages


def canonical_chat(messages: Sequence[Mapping[str, str]]) -> list[Message]:
    """The chat an executor answers for ``messages``: what the verifier will rebuild."""
    return chat_messages(*split_chat(messages))
