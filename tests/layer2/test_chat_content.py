"""Rule ``chat-content``: one mapping between a chat and an inference transaction's content,
used by executor and verifier alike; its round trip is the identity on canonical chats."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from funai.layer2.chat_content import canonical_chat, chat_messages, split_chat

text = st.text(max_size=40)
turn = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "tool"]), "content": text}
)
system = st.fixed_dictionaries({"role": st.just("system"), "content": text})
chats = st.lists(st.one_of(turn, system), min_size=1, max_size=8)


@given(chats)
@settings(max_examples=300, deadline=None)
def test_split_then_rebuild_is_the_canonical_chat(messages: list[dict[str, str]]) -> None:
    canon = canonical_chat(messages)
    # canonical chats are fixed points: the verifier rebuilds exactly what the executor ran
    assert canonical_chat(canon) == canon
    assert split_chat(canon) == split_chat(messages)
    assert chat_messages(*split_chat(canon)) == canon
    # the canonical chat keeps every non-system turn, in order
    assert [m for m in canon if m["role"] != "system"] == [
        m for m in messages if m["role"] != "system"
    ]
    # at most one system message, first, holding every system message joined
    systems = [m["content"] for m in messages if m["role"] == "system"]
    joined = "\n".join(systems)
    assert [m for m in canon if m["role"] == "system"] == (
        [{"role": "system", "content": joined}] if joined else []
    )


@given(st.lists(turn, min_size=1, max_size=6), text, text)
@settings(max_examples=200, deadline=None)
def test_content_round_trip(history: list[dict[str, str]], question: str, sys_prompt: str) -> None:
    """Content made by split_chat survives chat_messages and back."""
    messages = [{"role": "system", "content": sys_prompt}, *history]
    messages.append({"role": "user", "content": question})
    inp, ctx, sysp = split_chat(messages)
    assert sysp == sys_prompt
    if question:
        assert inp == question
        assert json.loads(ctx) == history
    else:  # an empty last turn stays in the context
        assert inp == ""
        assert json.loads(ctx) == [*history, {"role": "user", "content": ""}]
    assert split_chat(chat_messages(inp, ctx, sysp)) == (inp, ctx, sysp)


def test_multi_turn_and_assistant_last() -> None:
    chat = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "u1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "u2"},
    ]
    inp, ctx, sysp = split_chat(chat)
    assert (inp, sysp) == ("u2", "S")
    assert ctx == '[{"content":"u1","role":"user"},{"content":"a1","role":"assistant"}]'
    assert chat_messages(inp, ctx, sysp) == chat
    # a chat ending with the assistant's turn (a prefill): no input, every turn in context
    prefill = chat[:3]
    inp, ctx, _ = split_chat(prefill)
    assert inp == ""
    assert chat_messages(inp, ctx, "S") == prefill


def test_free_text_context_goes_before_the_input() -> None:
    """Content written by hand (not by split_chat) still maps to one chat."""
    assert chat_messages("question", "some notes", "") == [
        {"role": "user", "content": "some notes\n\nquestion"}
    ]
    # a JSON context that is not a list of turns is free text too
    odd = '[{"role": "wizard", "content": "x"}]'
    assert chat_messages("q", odd) == [{"role": "user", "content": f"{odd}\n\nq"}]
