"""The peer-to-peer network: framing, messages, handshake, peers, sync and relay.

See ``docs/protocol.md`` for the wire protocol.
"""
