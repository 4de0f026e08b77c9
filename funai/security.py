"""Security figures of whitepaper section 11 next to the exact double-spend race.

* The paper's figures: attack cost ``C_attack = k * C_tx * M_a``; attacker success
  ``P_success_L = (H_a / H_L)^z * e^(-2z)``; inference-layer fork probability
  ``P_fork_P = P_fork_L * (1 - M_h)``.
* Nakamoto's attacker-success probability (Bitcoin paper, section 11): the attacker's progress
  while the honest chain finds ``z`` blocks is approximated by a Poisson variable of mean
  ``z q / p``, then gambler's ruin: ``1 - sum_{k=0}^{z} Pois(k) (1 - (q/p)^(z-k))``.
* The exact probability of the same race (Rosenfeld 2014; Grunspan and Perez-Marco 2017): the
  attacker's progress is negative binomial, not Poisson:
  ``1 - sum_{k=0}^{z-1} C(k+z-1, k) p^z q^k (1 - (q/p)^(z-k))``.
* A seeded Monte-Carlo simulation of the race (numpy), bounded: a walk stopped at the bound
  (``cap`` blocks behind, or after ``64 * cap`` blocks) ``d`` blocks behind counts its exact
  remaining chance ``(q/p)^d``, so the bound costs no bias.

``q`` is the attacker's share of the ledger's hash rate (``H_a / H_L``), ``p = 1 - q``, ``z``
the number of confirmations. See docs/security.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FIGURE_SIZE",
    "SecurityReport",
    "attack_cost",
    "exact_success",
    "fork_probability",
    "monte_carlo_success",
    "nakamoto_success",
    "paper_success",
    "plot_success",
    "security_report",
]

# Pixel size of the PNG written by ``plot_success``.
FIGURE_SIZE = (1400, 560)
_DPI = 100


def _check(q: float, z: int) -> None:
    if not 0.0 <= q <= 1.0:
        raise ValueError("the attacker's share must be in [0, 1]")
    if z < 0:
        raise ValueError("confirmations must be >= 0")


def attack_cost(cycles: int, tx_cost: float, attacker_share: float) -> float:
    """The paper's ``C_attack = k * C_tx * M_a``."""
    if cycles < 0 or tx_cost < 0 or not 0.0 <= attacker_share <= 1.0:
        raise ValueError("cycles and tx cost must be >= 0, the share in [0, 1]")
    return cycles * tx_cost * attacker_share


def paper_success(q: float, z: int) -> float:
    """The paper's ``P_success_L = (H_a / H_L)^z * e^(-2z)`` with ``H_a / H_L = q``."""
    _check(q, z)
    return float(q**z * math.exp(-2 * z))


def fork_probability(p_fork_ledger: float, honest_share: float) -> float:
    """The paper's ``P_fork_P = P_fork_L * (1 - M_h)``."""
    if not 0.0 <= p_fork_ledger <= 1.0 or not 0.0 <= honest_share <= 1.0:
        raise ValueError("probabilities and shares must be in [0, 1]")
    return p_fork_ledger * (1.0 - honest_share)


def nakamoto_success(q: float, z: int) -> float:
    """Nakamoto's attacker-success probability (Poisson approximation, Bitcoin paper s. 11)."""
    _check(q, z)
    p = 1.0 - q
    if q >= p:
        return 1.0
    lam = z * q / p
    total = 1.0
    poisson = math.exp(-lam)
    for k in range(z + 1):
        if k > 0:
            poisson *= lam / k
        total -= poisson * (1.0 - (q / p) ** (z - k))
    return min(1.0, max(0.0, total))


def exact_success(q: float, z: int) -> float:
    """The exact success probability of the race (negative-binomial attacker progress)."""
    _check(q, z)
    p = 1.0 - q
    if q >= p:
        return 1.0
    if z == 0:
        return 1.0
    total = 1.0
    for k in range(z):
        term = math.comb(k + z - 1, k) * p**z * q**k
        total -= term * (1.0 - (q / p) ** (z - k))
    return min(1.0, max(0.0, total))


def monte_carlo_success(
    q: float, z: int, trials: int = 100_000, seed: int = 0, cap: int = 64
) -> tuple[float, float]:
    """Simulates the race ``trials`` times: (estimated success probability, standard error).

    Phase 1: while the honest miners find ``z`` blocks the attacker finds a negative-binomial
    number of blocks ``k``; an attacker at least level (``k >= z``) has won. Phase 2: block by
    block (attacker with probability ``q``) until the attacker draws level (success) or falls
    ``cap`` blocks behind, for at most ``64 * cap`` blocks. A walk stopped ``d`` blocks behind
    contributes its exact remaining chance ``(q/p)^d`` (gambler's ruin) instead of 0, so the
    bound on the walk adds variance but no bias.
    """
    _check(q, z)
    if not 1 <= trials <= 10_000_000:
        raise ValueError("trials must be in 1..10000000")
    if cap < 1:
        raise ValueError("cap must be >= 1")
    p = 1.0 - q
    if q >= p or z == 0:
        return 1.0, 0.0
    if q == 0.0:
        return 0.0, 0.0
    ratio = q / p
    rng = np.random.default_rng(seed)
    k = rng.negative_binomial(z, p, size=trials)
    deficit = z - k
    score = (deficit <= 0).astype(np.float64)
    active = np.flatnonzero(deficit > 0)
    d = deficit[active]
    for _ in range(64 * cap):
        if active.size == 0:
            break
        d = d + np.where(rng.random(active.size) < q, -1, 1)
        caught = d <= 0
        score[active[caught]] = 1.0
        far = d >= cap
        score[active[far]] = ratio ** d[far].astype(np.float64)
        keep = ~caught & ~far
        active, d = active[keep], d[keep]
    score[active] = ratio ** d.astype(np.float64)  # walks still running at the step bound
    estimate = float(score.mean())
    stderr = float(score.std(ddof=1) / math.sqrt(trials)) if trials > 1 else 0.0
    return estimate, stderr


@dataclass
class SecurityReport:
    attacker_hash_share: float
    confirmations: int
    cycles: int
    tx_cost: float
    inference_attacker_share: float
    inference_honest_share: float
    attack_cost: float
    paper_success: float
    nakamoto_success: float
    exact_success: float
    monte_carlo_success: float
    monte_carlo_stderr: float
    monte_carlo_trials: int
    seed: int
    ledger_fork_probability: float
    inference_fork_probability: float
    table: list[dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def security_report(
    q: float,
    z: int,
    *,
    cycles: int = 1,
    tx_cost: float = 0.0001,
    inference_attacker_share: float | None = None,
    ledger_fork_probability: float | None = None,
    trials: int = 100_000,
    seed: int = 0,
    table_z: range = range(11),
) -> SecurityReport:
    """All figures for attacker hash share ``q`` and ``z`` confirmations.

    The inference-layer attacker share ``M_a`` defaults to ``q``, ``M_h = 1 - M_a``; the
    ledger fork probability ``P_fork_L`` defaults to the exact success probability.
    """
    m_a = q if inference_attacker_share is None else inference_attacker_share
    exact = exact_success(q, z)
    p_fork_l = exact if ledger_fork_probability is None else ledger_fork_probability
    mc, se = monte_carlo_success(q, z, trials=trials, seed=seed)
    table = [
        {
            "z": float(zz),
            "paper": paper_success(q, zz),
            "nakamoto": nakamoto_success(q, zz),
            "exact": exact_success(q, zz),
        }
        for zz in table_z
    ]
    return SecurityReport(
        attacker_hash_share=q,
        confirmations=z,
        cycles=cycles,
        tx_cost=tx_cost,
        inference_attacker_share=m_a,
        inference_honest_share=1.0 - m_a,
        attack_cost=attack_cost(cycles, tx_cost, m_a),
        paper_success=paper_success(q, z),
        nakamoto_success=nakamoto_success(q, z),
        exact_success=exact,
        monte_carlo_success=mc,
        monte_carlo_stderr=se,
        monte_carlo_trials=trials,
        seed=seed,
        ledger_fork_probability=p_fork_l,
        inference_fork_probability=fork_probability(p_fork_l, 1.0 - m_a),
        table=table,
    )


def plot_success(path: Path, confirmations: tuple[int, ...] = (1, 2, 4, 6, 10)) -> Path:
    """Writes a PNG (``FIGURE_SIZE`` pixels): success probability vs attacker share (left, one
    curve per ``z``) and vs confirmations (right, one curve per share); exact solid, Nakamoto's
    Poisson dotted, the paper's formula dashed, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    floor = 1e-12
    qs = np.linspace(0.01, 0.5, 99)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(FIGURE_SIZE[0] / _DPI, FIGURE_SIZE[1] / _DPI), dpi=_DPI
    )
    try:
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for i, z in enumerate(confirmations):
            c = colors[i % len(colors)]
            left.plot(
                qs,
                [max(exact_success(q, z), floor) for q in qs],
                "-",
                color=c,
                label=f"z={z} exact",
            )
            left.plot(qs, [max(nakamoto_success(q, z), floor) for q in qs], ":", color=c)
            left.plot(qs, [max(paper_success(q, z), floor) for q in qs], "--", color=c)
        left.set(
            xlabel="attacker share of hash rate q",
            ylabel="attacker success probability",
            yscale="log",
            ylim=(floor, 1.5),
            title="vs attacker share",
        )
        left.legend(
            fontsize=8, title="solid exact, dotted Nakamoto, dashed paper", title_fontsize=8
        )
        zs = list(range(31))
        for i, q in enumerate((0.1, 0.2, 0.3, 0.4, 0.45)):
            c = colors[i % len(colors)]
            right.plot(
                zs,
                [max(exact_success(q, z), floor) for z in zs],
                "-",
                color=c,
                label=f"q={q} exact",
            )
            right.plot(zs, [max(nakamoto_success(q, z), floor) for z in zs], ":", color=c)
            right.plot(zs, [max(paper_success(q, z), floor) for z in zs], "--", color=c)
        right.set(
            xlabel="confirmations z", yscale="log", ylim=(floor, 1.5), title="vs confirmations"
        )
        right.legend(fontsize=8)
        for ax in (left, right):
            ax.grid(True, which="major", alpha=0.3)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=_DPI)
    finally:
        plt.close(fig)
    return path
