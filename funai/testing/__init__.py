"""Testing helpers shipped with the package (as ``trio.testing``), for our suites and for
anyone building on the node.

* :mod:`funai.testing.cluster`: an in-process inference layer: deterministic keys, a fake L1
  chain with one L2 state (:class:`~funai.testing.cluster.Net`), and a cluster of real
  :class:`~funai.layer2.service.L2Node` objects joined by a gossip bus that round-trips every
  message through the network encoding (:class:`~funai.testing.cluster.Cluster`), with an
  honest fake executor and judge.
* :mod:`funai.testing.devnet`: a devnet of real node processes driven over HTTP
  (:class:`~funai.testing.devnet.Devnet`, an extended
  :class:`~funai.devnet.client.DevnetClient`): polling that also checks that the processes
  live, funding, peg-ins, following an inference transaction on every node, and faults (late
  start, SIGKILL, partition and healing).

Top of the layers (docs/architecture.md): nothing in the node imports it.
"""

from funai.devnet.client import DevnetClient

__all__ = ["DevnetClient"]
