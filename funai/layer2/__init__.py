"""The inference layer (L2): Proof of Inference consensus (DESIGN sections 4-5, docs/layer2.md).

Consensus rules, one module per group, named after them: :mod:`params`,
:mod:`transactions`, :mod:`state`, :mod:`execution`, :mod:`models`, :mod:`registration`,
:mod:`commitment`, :mod:`sortition`, :mod:`block`, :mod:`consensus`, :mod:`votes`,
:mod:`rewards`, :mod:`anchoring`, :mod:`pegs`, :mod:`reclamation`. Node side:
:mod:`service` (the executor, producer and verifier roles), :mod:`pegout` (the peg pool's
L1 outputs and the quorum-signed peg-out), :mod:`follower` (L1 chain),
:mod:`messages` and :mod:`p2p` (gossip), :mod:`judging` (the inference engine),
:mod:`story` (the narrated in-process lifecycle).
"""
