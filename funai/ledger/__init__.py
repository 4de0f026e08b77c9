"""The ledger layer (L1): a Bitcoin-style proof-of-work chain.

Modules: :mod:`~funai.ledger.params` (networks and genesis blocks), :mod:`~funai.ledger.header`,
:mod:`~funai.ledger.compact` (targets and retarget), :mod:`~funai.ledger.headerchain`
(batch header validation, Rust and pure Python), :mod:`~funai.ledger.encoding`
(deterministic CBOR), :mod:`~funai.ledger.tx`, :mod:`~funai.ledger.block`,
:mod:`~funai.ledger.address`, :mod:`~funai.ledger.quorum` (pay-to-quorum outputs),
:mod:`~funai.ledger.supply`, :mod:`~funai.ledger.validation`,
:mod:`~funai.ledger.chainstate`, :mod:`~funai.ledger.mempool`, :mod:`~funai.ledger.miner`,
:mod:`~funai.ledger.wallet`. The consensus rules are listed by name in ``docs/ledger.md``.
"""
