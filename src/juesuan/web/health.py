"""The database connection's health check at the start of a request, made without a query.

With CONN_HEALTH_CHECKS (settings.py) Django sends `SELECT 1` before a request's first query,
so that a kept connection the server dropped (a restart, backends ended by an administrator)
is replaced instead of failing the user's request: a round trip on every request. A PostgreSQL
server that ends a connection says so on its socket — it sends its FATAL message and closes,
and the kernel closes the socket when the server process dies — so a kept connection that is
idle with nothing to read is one the server still holds. Such a connection is marked checked;
any other (unread input, not idle, socket gone) still gets Django's `SELECT 1` and is replaced
when that fails. The server sends its FATAL a moment after it is told to end a backend; a
request starting within that moment fails as one would that started just after a `SELECT 1`.
A peer gone without a word (a cut cable) fails `SELECT 1` as it fails the
first query: neither check recovers from that, so nothing is lost.
"""

from __future__ import annotations

import select

from django.db import connections


def mark_quiet_connections_checked(**kwargs) -> None:
    """request_started receiver, run after Django's close_old_connections (which clears the
    checked flag of every kept connection)."""
    for connection in connections.all(initialized_only=True):
        if (
            connection.vendor == "postgresql"
            and connection.health_check_enabled
            and not connection.health_check_done
            and connection.connection is not None
            and _quiet(connection.connection)
        ):
            connection.health_check_done = True


def _quiet(raw) -> bool:
    """The psycopg connection is open and idle, and the server has sent nothing since its last
    answer (no error or end of the connection waiting to be read)."""
    from psycopg import pq

    pgconn = raw.pgconn
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
    except Exception:  # no socket any more, or a descriptor select cannot watch
        return False
    return not readable
