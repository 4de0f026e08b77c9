"""Secret key files of a node: one hex line, mode 0600, created on first use."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from funai.errors import MalformedInputError

__all__ = ["load_secret"]


def load_secret(path: Path, make: Callable[[], bytes], size: int = 32) -> bytes:
    """The secret in ``path``; if the file does not exist, ``make()`` one and write it
    (exclusively, mode 0600). A file that is not ``size`` bytes of hex is refused."""
    if path.exists():
        text = path.read_text().strip()
        try:
            secret = bytes.fromhex(text)
        except ValueError:
            raise MalformedInputError(f"{path}: not a hex key") from None
        if len(secret) != size:
            raise MalformedInputError(f"{path}: a key is {size} bytes, found {len(secret)}")
        return secret
    secret = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret.hex() + "\n")
    return secret
