"""In-process units of the API layer: content hash, provisional receipts, parsing, metrics."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from funai import _core
from funai.api.metrics import NodeMetrics
from funai.api.openai.errors import ApiError
from funai.api.openai.models import ModelRegistry
from funai.api.openai.protocol import parse_request
from funai.api.openai.receipts import provisional_receipt_message, verify_receipt
from funai.api.openapi import openapi_document
from funai.layer2.chat_content import split_chat
from funai.layer2.transactions import content_hash


def test_api_uses_the_one_content_hash() -> None:
    """The receipts the API signs commit to the layer-2 rule ``content-hash`` itself (its
    definition is tested in tests/layer2/test_transactions.py), not to a copy of it."""
    import funai.api

    api = Path(funai.api.__file__).parent
    for path in api.rglob("*.py"):
        source = path.read_text()
        assert "def content_hash" not in source, path
        assert "to_bytes(8" not in source, path  # no length prefix of its own either
    # the paper's plain concatenation would make these equal
    assert content_hash("ab", "c", "", "") != content_hash("a", "bc", "", "")


def test_receipt_roundtrip() -> None:
    sk, pk = _core.ed25519_keygen()
    model_id, chash = bytes(range(32)), content_hash("a", "b", "", "")
    sig = _core.ed25519_sign(sk, provisional_receipt_message(model_id, chash, "cmpl-1"))
    receipt = {
        "model_id": model_id.hex(),
        "content_hash": chash.hex(),
        "request_id": "cmpl-1",
        "signer": pk.hex(),
        "signature": sig.hex(),
    }
    assert verify_receipt(receipt)
    assert not verify_receipt({**receipt, "request_id": "cmpl-2"})
    assert not verify_receipt({**receipt, "signature": "zz"})
    assert not verify_receipt({})


def test_split_chat() -> None:
    msgs = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "u1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "u2"},
    ]
    inp, ctx, system = split_chat(msgs)
    assert (inp, system) == ("u2", "S")
    assert ctx == '[{"content":"u1","role":"user"},{"content":"a1","role":"assistant"}]'


def test_parse_request() -> None:
    req = parse_request(
        {
            "model": "m",
            "messages": [
                {
                    "role": "developer",
                    "content": [{"type": "text", "text": "be "}, {"type": "text", "text": "brief"}],
                },
                {"role": "user", "content": "hi"},
            ],
            "temperature": 0,
            "max_tokens": 7,
            "stop": "\n",
            "seed": -1,
            "user": "ignored",
        },
        chat=True,
    )
    assert req.prompt == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    assert req.params.max_tokens == 7
    assert req.params.temperature == 0
    assert req.params.stop == ("\n",)
    assert req.params.seed == (1 << 64) - 1
    assert parse_request({"model": "m", "prompt": ["x"]}, chat=False).prompt == "x"
    with pytest.raises(ApiError) as exc:
        parse_request(
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "top_p": True}, chat=True
        )
    assert exc.value.param == "top_p"
    assert exc.value.body()["error"]["type"] == "invalid_request_error"


def test_metrics_registry_without_node() -> None:
    m = NodeMetrics(None)
    m.observe_generation("m", "chat", 5, 10, 0.1, 1.0)
    m.observe_verdict("m", "accept")
    m.observe_vote_latency(0.2)
    fams = {f.name: f for f in text_string_to_metric_families(m.render().decode())}
    tps = [s for s in fams["funai_inference_tokens_per_second"].samples if s.name.endswith("_sum")]
    assert tps[0].value == pytest.approx(9 / 0.9)
    verdicts = fams["funai_judge_verdicts"].samples
    assert (verdicts[0].labels, verdicts[0].value) == ({"model": "m", "verdict": "accept"}, 1.0)
    assert any(
        s.name == "funai_vote_latency_seconds_count" and s.value == 1
        for s in fams["funai_vote_latency_seconds"].samples
    )


def test_openapi_document_is_well_formed() -> None:
    doc = openapi_document()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert method in ("get", "post")
            assert "200" in op["responses"]
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    assert "{" + param["name"] + "}" in path


def test_models_that_fail_to_load_answer_503(tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "tokenizer.json").write_text("{}")
    node = SimpleNamespace(
        datadir=tmp_path,
        l2=None,
        config=SimpleNamespace(
            inference=True, verifier=False, models=["no-such-model", str(broken)]
        ),
    )
    service = ModelRegistry(node, NodeMetrics(None))  # type: ignore[arg-type]
    assert service.models["broken-model"].status == "loading"
    with pytest.raises(ApiError) as exc:
        service.find("broken-model")
    assert (exc.value.status, exc.value.code) == (503, "model_loading")
    trio.run(service.load)
    for name in ("no-such-model", "broken-model"):
        assert service.models[name].status == "error"
        with pytest.raises(ApiError) as exc:
            service.find(name)
        assert (exc.value.status, exc.value.code) == (503, "model_unavailable")
    with pytest.raises(ApiError) as exc:
        service.find("other")
    assert (exc.value.status, exc.value.code) == (404, "model_not_found")
    listed = service.model_json(service.models["broken-model"])
    assert listed["funai"]["status"] == "error"


def test_openapi_documents_every_route(tmp_path: Path) -> None:
    from starlette.routing import Route

    from funai.api.app import build_app

    fake = SimpleNamespace(
        service=SimpleNamespace(chain=None, wallet_lock=trio.Lock()),
        config=SimpleNamespace(inference=False, verifier=False, models=[]),
        netdir=tmp_path,
        l2=None,
    )
    app = build_app(fake)  # type: ignore[arg-type]
    routes = {re.sub(r"\{(\w+):\w+\}", r"{\1}", r.path) for r in app.routes if isinstance(r, Route)}
    assert routes == set(openapi_document()["paths"])
