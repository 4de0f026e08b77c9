"""FUN AI node: a peer-to-peer inference network secured by proof of work and proof of inference.

The compiled core (hashing, proof-of-work search, ECVRF, signatures) is ``funai._core``;
the modules beside it are the node written in Python.
"""

from funai._core import __version__

__all__ = ["__version__"]
