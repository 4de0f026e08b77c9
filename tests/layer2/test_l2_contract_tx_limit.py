"""Rule ``contract-tx-limit``: a contract transaction on the inference chain may use at most
``CONTRACT_TX_LIMIT`` (500 writes, 1 MB written, ...), tighter than the Clarity VM's own
default, which is the reference's per-transaction limit (15,000 writes, 15 MB) so that real
contracts such as deploy-time airdrops deploy in ``funai clarity`` and ``ClarityVM``.

A contract transaction pays a flat fee, not its cost, so the inference chain keeps the tight
limit: the airdrop below deploys in a plain VM and is refused on the inference chain, and
the refusal changes nothing (no contract, no nonce spent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai.clarity import ClarityVM
from funai.layer2.errors import L2Error
from funai.layer2.execution import CONTRACT_TX_LIMIT, BlockContext, apply_tx, principal
from funai.layer2.state import L2State
from funai.layer2.transactions import TxKind, sign_tx
from funai.ledger.tx import COIN
from funai.testing.cluster import NETWORK_ID, Net, acct, skey

HOLDERS = 600  # each mint writes a balance; over the chain's 500 writes, far under 15,000
AIRDROP = (
    "(define-fungible-token drop)\n"
    + "\n".join(
        f"(ft-mint? drop u{i + 1} '{principal(acct(f'holder{i}'))})" for i in range(HOLDERS)
    )
    + "\n(define-read-only (supply) (ft-get-supply drop))\n"
)


def test_a_deploy_time_airdrop_deploys_under_the_vms_default() -> None:
    vm = ClarityVM()
    assert vm.call_limit["write_count"] == 15_000
    dep = vm.deploy("airdrop", AIRDROP)
    supply = HOLDERS * (HOLDERS + 1) // 2
    assert vm.read_only(dep.contract_id, "supply").result == f"u{supply}"


def test_the_inference_chain_refuses_it_and_nothing_changes(tmp_path: Path) -> None:
    assert CONTRACT_TX_LIMIT["write_count"] == 500
    net = Net(tmp_path / "x.sqlite")
    net.fund("user", 100 * COIN)
    state: L2State = net.state
    before = (state.account(acct("user")), state.state_root())
    tx = sign_tx(skey("user"), TxKind.DEPLOY, 0, ["airdrop", AIRDROP], NETWORK_ID, 0)
    with pytest.raises(L2Error, match="write_count"):
        apply_tx(state, tx, BlockContext(1, acct("prod")))
    assert (state.account(acct("user")), state.state_root()) == before
