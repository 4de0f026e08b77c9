"""Local devnets of real node processes (``funai devnet``, ``funai demo``).

:mod:`~funai.devnet.launcher` starts and stops node processes (one launcher for the CLI, the
demo and the tests), :mod:`~funai.devnet.client` talks to them over HTTP,
:mod:`~funai.devnet.accounts` holds the well-known developer accounts,
:mod:`~funai.devnet.ready` brings an inference-layer devnet to "ready to serve" and
:mod:`~funai.devnet.story` walks one request through the whole lifecycle.

This package sits above the API (it is a client of the nodes): nothing below imports it.
"""
