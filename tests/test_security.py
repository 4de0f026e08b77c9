"""``funai security``: the paper's section 11 figures, Nakamoto's table, the exact race."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funai.cli import app
from funai.security import (
    FIGURE_SIZE,
    attack_cost,
    exact_success,
    fork_probability,
    monte_carlo_success,
    nakamoto_success,
    paper_success,
    plot_success,
    security_report,
)

# Bitcoin paper, section 11 (values printed to 7 decimals).
NAKAMOTO_TABLE = [
    (0.1, 0, 1.0000000),
    (0.1, 1, 0.2045873),
    (0.1, 2, 0.0509779),
    (0.1, 3, 0.0131722),
    (0.1, 4, 0.0034552),
    (0.1, 5, 0.0009137),
    (0.1, 6, 0.0002428),
    (0.1, 7, 0.0000647),
    (0.1, 8, 0.0000173),
    (0.1, 9, 0.0000046),
    (0.1, 10, 0.0000012),
    (0.3, 0, 1.0000000),
    (0.3, 5, 0.1773523),
    (0.3, 10, 0.0416605),
    (0.3, 15, 0.0101008),
    (0.3, 20, 0.0024804),
    (0.3, 25, 0.0006132),
    (0.3, 30, 0.0001522),
    (0.3, 35, 0.0000379),
    (0.3, 40, 0.0000095),
    (0.3, 45, 0.0000024),
    (0.3, 50, 0.0000006),
]


@pytest.mark.parametrize(("q", "z", "expected"), NAKAMOTO_TABLE)
def test_nakamoto_table(q: float, z: int, expected: float) -> None:
    assert nakamoto_success(q, z) == pytest.approx(expected, abs=5e-8)


def test_exact_by_hand() -> None:
    # z = 1: the attacker is level after >= 1 block (prob q) or catches up from 1 behind
    # (prob p * q/p): 2q.
    assert exact_success(0.3, 1) == pytest.approx(0.6, abs=1e-12)
    # z = 2 by hand: 1 - p^2 (1 - (q/p)^2) - 2 p^2 q (1 - q/p).
    q, p = 0.3, 0.7
    assert exact_success(q, 2) == pytest.approx(
        1 - p**2 * (1 - (q / p) ** 2) - 2 * p**2 * q * (1 - q / p), abs=1e-12
    )
    assert exact_success(0.3, 5) == pytest.approx(0.1976173, abs=5e-8)
    assert exact_success(0.1, 5) == pytest.approx(0.0017818, abs=5e-8)
    assert exact_success(0.5, 7) == 1.0
    assert exact_success(0.0, 3) == 0.0


def test_paper_formulas_by_hand() -> None:
    assert paper_success(0.1, 5) == pytest.approx(1e-5 * math.exp(-10), rel=1e-12)
    assert paper_success(0.3, 0) == 1.0
    assert attack_cost(10, 0.5, 0.2) == pytest.approx(1.0)
    assert fork_probability(0.01, 0.75) == pytest.approx(0.0025)
    with pytest.raises(ValueError, match="share"):
        paper_success(1.5, 1)
    with pytest.raises(ValueError, match="probabilities"):
        fork_probability(0.1, -0.1)


@pytest.mark.parametrize(("q", "z"), [(0.1, 2), (0.3, 5), (0.45, 10), (0.49, 10)])
def test_monte_carlo_matches_exact(q: float, z: int) -> None:
    estimate, stderr = monte_carlo_success(q, z, trials=100_000, seed=7)
    exact = exact_success(q, z)
    # 5 standard errors of a Bernoulli estimate (the stopped walks' exact tail only lowers
    # the variance); no bias term: stopped walks count (q/p)^deficit.
    bound = 5 * math.sqrt(exact * (1 - exact) / 100_000)
    assert abs(estimate - exact) <= bound
    assert 0 < stderr <= bound


def test_monte_carlo_small_cap_is_unbiased() -> None:
    # With the walk stopped 2 blocks behind, the tail is carried exactly.
    estimate, _ = monte_carlo_success(0.4, 3, trials=100_000, seed=2, cap=2)
    exact = exact_success(0.4, 3)
    assert abs(estimate - exact) <= 5 * math.sqrt(exact * (1 - exact) / 100_000)


def test_monte_carlo_tells_poisson_from_exact() -> None:
    # At q=0.3, z=10 Nakamoto's Poisson sum (0.0417) is far outside the simulation's error.
    estimate, stderr = monte_carlo_success(0.3, 10, trials=100_000, seed=3)
    assert abs(estimate - nakamoto_success(0.3, 10)) > 10 * stderr


def test_monte_carlo_is_seeded() -> None:
    assert monte_carlo_success(0.2, 4, 5000, seed=1) == monte_carlo_success(0.2, 4, 5000, 1)


def test_report_defaults() -> None:
    r = security_report(0.2, 3, cycles=4, tx_cost=0.5, trials=1000, table_z=range(3))
    assert r.attack_cost == pytest.approx(4 * 0.5 * 0.2)
    assert r.ledger_fork_probability == r.exact_success
    assert r.inference_fork_probability == pytest.approx(r.exact_success * 0.2)
    assert [row["z"] for row in r.table] == [0.0, 1.0, 2.0]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    assert data[-8:-4] == b"IEND"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_cli_json_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "plot.png"
    result = CliRunner().invoke(
        app,
        ["security", "-q", "0.1", "-z", "5", "--trials", "20000", "--plot", str(png), "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["nakamoto_success"] == pytest.approx(0.0009137, abs=5e-8)
    assert data["paper_success"] == pytest.approx(4.539993e-10, rel=1e-6)
    assert data["plot"] == str(png)
    assert _png_size(png) == FIGURE_SIZE


def test_cli_human_and_errors() -> None:
    result = CliRunner().invoke(app, ["security", "-q", "0.3", "-z", "5", "--trials", "1000"])
    assert result.exit_code == 0, result.output
    assert "0.1773523" in result.stdout
    bad = CliRunner().invoke(app, ["security", "-q", "1.2"])
    assert bad.exit_code == 2


def test_plot_direct(tmp_path: Path) -> None:
    assert _png_size(plot_success(tmp_path / "a" / "p.png", (1, 3))) == FIGURE_SIZE
