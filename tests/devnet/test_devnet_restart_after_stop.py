"""`funai devnet --l2` restarted right after Ctrl-C: the API ports of the devnet just stopped
still have connections in TIME_WAIT (the nodes' servers closed them), and the port check
refused to start ("port 29634 ... is in use (another devnet?)") for up to a minute, although
the nodes' servers (which bind with SO_REUSEADDR) could have bound. A port with a listener is
still refused."""

from __future__ import annotations

import socket

import pytest

from funai.devnet.ready import check_ports


def _server() -> socket.socket:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    return srv


def test_port_in_time_wait_after_a_stop_is_free() -> None:
    srv = _server()
    port = srv.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = srv.accept()
    conn.close()  # the server side closes first: its end of the port goes to TIME_WAIT
    client.recv(1)
    client.close()
    srv.close()
    check_ports("127.0.0.1", port, 1)


def test_port_with_a_listener_is_refused() -> None:
    srv = _server()
    port = srv.getsockname()[1]
    try:
        with pytest.raises(RuntimeError, match="in use"):
            check_ports("127.0.0.1", port, 1)
    finally:
        srv.close()
