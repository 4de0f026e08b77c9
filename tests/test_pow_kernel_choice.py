"""The miner's kernel is measured, not picked by a fixed order: ``funai mine`` and
``funai bench pow`` measure every available SHA-256d kernel briefly, use the fastest, cache
the choice per CPU model in the data directory (later runs do not measure again), and
``--backend`` still forces one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trio
from typer.testing import CliRunner

import funai.pow_choice as choice
from funai import pow as powlib
from funai.cli import app
from funai.pow_choice import CACHE_FILE, choose_backend, cpu_model

runner = CliRunner()


def test_the_fastest_measured_kernel_wins_and_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    available = powlib.backends()
    if len(available) < 2:
        pytest.skip("one kernel on this CPU: nothing to choose")
    # the last kernel of the fixed order is "measured" fastest: auto must follow the measure
    fake = {name: float(i + 1) for i, name in enumerate(available)}
    calls: list[float] = []

    def measure(seconds: float = choice.MEASURE_SECONDS) -> dict[str, float]:
        calls.append(seconds)
        return dict(fake)

    monkeypatch.setattr(choice, "measure", measure)
    got = choose_backend(tmp_path)
    assert got.backend == available[-1]
    assert got.source == "measured"
    cache = json.loads((tmp_path / CACHE_FILE).read_text())
    (entry,) = cache.values()
    assert entry["backend"] == available[-1]
    assert next(iter(cache)).startswith(cpu_model())
    again = choose_backend(tmp_path)
    assert (again.backend, again.source) == (available[-1], "cached")
    assert len(calls) == 1
    forced = choose_backend(tmp_path, available[0])
    assert (forced.backend, forced.source) == (available[0], "forced")
    with pytest.raises(ValueError, match="not available"):
        choose_backend(tmp_path, "nope")


def test_real_measurement_covers_every_kernel() -> None:
    rates = choice.measure(0.02)
    assert set(rates) == set(powlib.backends())
    assert all(r > 0 for r in rates.values())


def test_bench_pow_reports_the_measured_choice(tmp_path: Path) -> None:
    r = runner.invoke(
        app,
        ["--datadir", str(tmp_path), "bench", "pow", "--json", "--seconds", "0.05", "-t", "1"],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    kernel = out["kernel"]
    assert out["backend"] == kernel["backend"]
    if len(powlib.backends()) > 1:
        assert kernel["source"] == "measured"
        rates = kernel["mhs_by_backend"]
        assert set(rates) == set(powlib.backends())
        assert kernel["backend"] == max(rates, key=lambda k: rates[k])
        assert (tmp_path / CACHE_FILE).is_file()
    forced = runner.invoke(
        app,
        [
            "--datadir",
            str(tmp_path),
            "bench",
            "pow",
            "--json",
            "-s",
            "0.05",
            "-t",
            "1",
            "-b",
            "scalar",
        ],
    )
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.output)["kernel"] == {
        "backend": "scalar",
        "source": "forced",
        "mhs_by_backend": {},
    }


def test_mine_uses_the_choice_and_backend_forces(tmp_path: Path) -> None:
    from funai.devnet.accounts import dev_accounts

    addr = dev_accounts("regtest")[1].address
    base = ["--datadir", str(tmp_path), "mine", "-n", "regtest", "--threads", "1"]
    r = runner.invoke(app, [*base, "--blocks", "1", "--address", addr])
    assert r.exit_code == 0, r.output
    if len(powlib.backends()) > 1:
        assert "(measured; M nonces/s on 1 thread:" in r.output
        r = runner.invoke(app, [*base, "--blocks", "1", "--address", addr])
        assert r.exit_code == 0, r.output
        assert "(cached; M nonces/s on 1 thread:" in r.output
    r = runner.invoke(app, [*base, "--blocks", "1", "--backend", "scalar", "--address", addr])
    assert r.exit_code == 0, r.output
    assert "kernel scalar (forced)" in r.output
    bad = runner.invoke(app, [*base, "--blocks", "1", "--backend", "nope", "--address", addr])
    assert bad.exit_code == 2
    assert "not available" in bad.output


def _node_miner(tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A node's miner role on a fresh regtest chain, its searches recorded."""
    import funai.ledger.miner as ledger_miner
    from funai.devnet.accounts import dev_accounts
    from funai.ledger.address import decode_address
    from funai.ledger.chainservice import ChainService
    from funai.ledger.params import REGTEST
    from funai.node.miner import Miner

    used: list[str] = []
    real = ledger_miner._search

    def search(*args: Any) -> Any:
        used.append(args[5])
        return real(*args)

    monkeypatch.setattr(ledger_miner, "_search", search)
    service = ChainService(tmp_path / "chain.sqlite", REGTEST, synchronous="NORMAL")
    payout = decode_address(dev_accounts("regtest")[1].address, REGTEST.hrp).output(0)
    miner = Miner(service, payout, threads=1, backend=backend, datadir=tmp_path)
    return miner, used


def test_node_miner_uses_the_measured_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``funai node --mine`` follows pow_choice (the measured, cached kernel), not a fixed
    order: with the last kernel of the order "measured" fastest, the node mines with it."""
    available = powlib.backends()
    if len(available) < 2:
        pytest.skip("one kernel on this CPU: nothing to choose")
    fake = {name: float(i + 1) for i, name in enumerate(available)}
    monkeypatch.setattr(choice, "measure", lambda seconds=0.0: dict(fake))
    miner, used = _node_miner(tmp_path, "auto", monkeypatch)
    blocks = trio.run(miner.generate, 2)
    assert len(blocks) == 2
    assert miner.kernel is not None
    assert (miner.kernel.backend, miner.kernel.source) == (available[-1], "measured")
    assert used
    assert set(used) == {available[-1]}
    assert json.loads((tmp_path / CACHE_FILE).read_text())  # cached for the next start
    # a restarted node reads the cache instead of measuring again
    monkeypatch.setattr(choice, "measure", lambda seconds=0.0: pytest.fail("measured again"))
    again, _ = _node_miner(tmp_path / "again", "auto", monkeypatch)
    again.datadir = tmp_path
    assert again.choose_kernel().source == "cached"


def test_node_miner_backend_forces_a_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(choice, "measure", lambda seconds=0.0: pytest.fail("measured"))
    miner, used = _node_miner(tmp_path, "scalar", monkeypatch)
    assert len(trio.run(miner.generate, 1)) == 1
    assert miner.kernel is not None
    assert (miner.kernel.backend, miner.kernel.source) == ("scalar", "forced")
    assert set(used) == {"scalar"}


def test_node_config_and_cli_take_a_backend(tmp_path: Path) -> None:
    from funai.node.config import NodeConfig, load_config

    assert NodeConfig(network="regtest").miner_backend == "auto"
    toml = tmp_path / "node.toml"
    toml.write_text('network = "regtest"\n[miner]\nbackend = "scalar"\n')
    cfg = load_config(toml)
    assert cfg.miner_backend == "scalar"
    assert load_config(toml, {"miner_backend": "auto"}).miner_backend == "auto"
    assert 'backend = "scalar"' in cfg.to_toml()
    bad = runner.invoke(
        app, ["--datadir", str(tmp_path), "node", "-n", "regtest", "--backend", "nope"]
    )
    assert bad.exit_code != 0
    assert "not available" in bad.output
