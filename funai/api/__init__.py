"""The node's local HTTP JSON API (Starlette on hypercorn's Trio worker), under ``/v1``."""
