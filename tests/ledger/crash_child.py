"""Child process of the crash test: connects the blocks of a file into a chainstate.

Usage: python crash_child.py DB BLOCKS_FILE CLOCK. Prints ``ready`` once the chainstate is
open, then submits every block (already-known ones are duplicates) and prints ``done``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from funai.ledger.block import Block
from funai.ledger.chainstate import Chainstate
from funai.ledger.encoding import decode
from funai.ledger.params import REGTEST


def main() -> None:
    db, blocks_file, clock = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    raw = decode(blocks_file.read_bytes(), max_size=100_000_000)
    chain = Chainstate(db, REGTEST, clock=lambda: clock)
    print("ready", flush=True)
    for i, data in enumerate(raw):
        chain.submit_block(Block.deserialize(data))
        print(i, flush=True)  # progress, so the parent can kill at a random point
    print("done", chain.height, flush=True)


if __name__ == "__main__":
    main()
