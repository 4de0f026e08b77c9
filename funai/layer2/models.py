"""Multi-model governance (DESIGN section 5, paper section 8).

Rule ``model-proposal``: anyone proposes a model id (BLAKE3 of the model's files) once.
Rule ``model-vote``: only current verifiers vote, once each; when the votes reach the quorum
(a majority of the verifier set) the model is approved and becomes active
``model_activation_delay`` L2 blocks later. Rule ``model-active``: an inference
transaction for a model that is not active at the block's height is refused; the block
format never changes (each model is a transaction type by its id).
"""

from __future__ import annotations

from funai.layer2.state import L2State

__all__ = ["APPROVED", "PROPOSED", "is_active", "model_status"]

PROPOSED = 0
APPROVED = 1


def model_status(state: L2State, model_id: bytes) -> tuple[int, int] | None:
    """``(status, activation_height)`` or None for an unknown model."""
    v = state.get("model", model_id)
    return None if v is None else (int(v[0]), int(v[1]))


def is_active(state: L2State, model_id: bytes, height: int) -> bool:
    """Rule ``model-active``."""
    if model_id in state.params.genesis_models:
        return True
    st = model_status(state, model_id)
    return st is not None and st[0] == APPROVED and st[1] <= height


def active_models(state: L2State, height: int) -> list[bytes]:
    """Every model active at ``height`` (what verifiers must run)."""
    out = set(state.params.genesis_models)
    out.update(k for k, _ in state.scan("model") if is_active(state, k, height))
    return sorted(out)
