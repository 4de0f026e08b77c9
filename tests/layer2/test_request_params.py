"""Rules ``request-params``, ``request-hash`` and ``inference-seed``: the sampling parameters
are part of the signed request, the seed of an answer follows from the signed request (the
executor cannot choose it), and a verifier refuses an answer to other parameters."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funai.errors import MalformedInputError
from funai.layer2.request_params import RequestParams, inference_seed, params_from_json
from funai.layer2.service import sign_request
from funai.layer2.transactions import InferenceContent, make_inference, request_hash
from funai.layer2.verifier import JudgeJob, Verifier
from funai.layer2.votes import Verdict
from funai.ledger.encoding import decode, encode
from funai.ledger.tx import tagged_hash
from funai.testing.cluster import MODEL, NETWORK_ID, skey

params_st = st.builds(
    RequestParams,
    max_tokens=st.integers(1, 1 << 20),
    temperature_ppm=st.integers(0, 100_000_000),
    top_k=st.integers(0, 1 << 20),
    top_p_ppm=st.integers(1, 1_000_000),
    repetition_penalty_ppm=st.integers(1, 100_000_000),
    stop=st.lists(st.text(min_size=1, max_size=8), max_size=4).map(tuple),
    seed=st.none() | st.integers(0, 2**64 - 1),
    raw=st.booleans(),
)


@given(params_st)
@settings(max_examples=200, deadline=None)
def test_params_encoding_round_trips(p: RequestParams) -> None:
    assert RequestParams.from_cbor(decode(encode(p.to_cbor()))) == p
    assert params_from_json(p.to_json()) == p


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_tokens", 0),
        ("max_tokens", (1 << 20) + 1),
        ("temperature_ppm", -1),
        ("temperature_ppm", 100_000_001),
        ("top_k", -1),
        ("top_p_ppm", 0),
        ("top_p_ppm", 1_000_001),
        ("repetition_penalty_ppm", 0),
        ("seed", -1),
        ("seed", 2**64),
        ("stop", ("",)),
        ("stop", ("a", "b", "c", "d", "e")),
        ("stop", ("x" * 257,)),
        ("raw", 1),
        ("max_tokens", True),
    ],
)
def test_out_of_range_params_are_malformed(field: str, value: Any) -> None:
    with pytest.raises(MalformedInputError, match="request"):
        RequestParams(**{field: value})


@pytest.mark.parametrize(
    "raw",
    [
        [64, 0, 0, 1_000_000, 1_000_000, [], -1],  # 7 items
        [64, 0, 0, 1_000_000, 1_000_000, [], -1, 2],  # raw flag not 0/1
        [64, 0, 0, 1_000_000, 1_000_000, [], -2, 0],  # seed below -1
        [64, 0, 0, 1_000_000, 1_000_000, "stop", -1, 0],  # stop strings not a list
        [True, 0, 0, 1_000_000, 1_000_000, [], -1, 0],  # a boolean for an integer
        [64, 0, 0, 0, 1_000_000, [], -1, 0],  # top_p 0
        "not a list",
    ],
)
def test_malformed_params_encodings_are_refused(raw: Any) -> None:
    with pytest.raises(MalformedInputError):
        RequestParams.from_cbor(raw)


def test_params_are_signed_with_the_request() -> None:
    a = RequestParams(max_tokens=16, temperature_ppm=700_000)
    b = dataclasses.replace(a, temperature_ppm=1_000_000)
    assert request_hash(MODEL, "q", "", "", a) != request_hash(MODEL, "q", "", "", b)
    ra = sign_request(skey("user"), 0, MODEL, 100, "q", NETWORK_ID, params=a)
    rb = sign_request(skey("user"), 0, MODEL, 100, "q", NETWORK_ID, params=b)
    assert ra.user_txid() != rb.user_txid()


def test_inference_seed_rule() -> None:
    p = RequestParams(temperature_ppm=1_000_000)
    txid = bytes(range(32))
    want = int.from_bytes(tagged_hash(b"FAI2/seed", NETWORK_ID + txid)[:8], "big")
    assert inference_seed(NETWORK_ID, txid, p) == want
    # it depends on the signed request and the network, nothing the executor picks
    assert inference_seed(NETWORK_ID, bytes(32), p) != want
    assert inference_seed(bytes(32), txid, p) != want
    # the user's own seed wins
    assert inference_seed(NETWORK_ID, txid, dataclasses.replace(p, seed=42)) == 42


class _Node:
    """What Verifying.judge reads of its node."""

    def __init__(self) -> None:
        self.params = type("P", (), {"network_id": NETWORK_ID})()


def _job(content: InferenceContent, signed: RequestParams) -> tuple[JudgeJob, Any]:
    """A block job with one inference whose user signed ``signed`` and whose stored content
    is ``content`` (as the content store admits it: it hashes to the receipt)."""
    asked = InferenceContent(content.input, "", params=signed)
    tx = make_inference(skey("user"), skey("exec"), 0, MODEL, asked, 100, NETWORK_ID)
    rhash = asked.request_hash(MODEL)
    assert tx.payload[1] == rhash
    job = JudgeJob(bytes(32), [tx])
    job.contents = [content]
    return job, tx


def test_verifier_replays_with_the_rule_seed_and_refuses_other_params() -> None:
    signed = RequestParams(max_tokens=8, temperature_ppm=1_000_000)
    seen: list[int] = []

    def judge(model_id: bytes, content: InferenceContent, seed: int) -> Verdict:
        seen.append(seed)
        return Verdict(True)

    verifying = Verifier.__new__(Verifier)
    verifying.node = _Node()  # type: ignore[assignment]
    verifying.verdicts = OrderedDict()
    honest = InferenceContent("q", "a", params=signed, tokens=(5,), finish="eos")
    job, tx = _job(honest, signed)
    assert verifying.judge(job, judge) == [Verdict(True)]
    assert seen == [inference_seed(NETWORK_ID, tx.user_txid(), signed)]
    # the same inference in a later block (one that replaces an unfinalized one): its
    # verdict is reused, not judged again
    again = JudgeJob(bytes([1]) * 32, list(job.txs))
    again.contents = list(job.contents)
    assert verifying.judge(again, judge) == [Verdict(True)]
    assert len(seen) == 1
    # the executor answered with parameters of its own (a longer answer, greedy): refused
    # before any replay
    other = dataclasses.replace(signed, max_tokens=64, temperature_ppm=0)
    cheat = InferenceContent("q", "a", params=other, tokens=(5,), finish="eos")
    job, _ = _job(cheat, signed)
    assert verifying.judge(job, judge) == [Verdict(False)]
    assert len(seen) == 1
