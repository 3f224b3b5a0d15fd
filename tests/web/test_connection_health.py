"""A kept PostgreSQL connection is trusted at a request's start without a query while it is
quiet, and replaced when the server has ended it (juesuan.web.health): a database restart or an
administrator ending backends never fails a user's request."""

from __future__ import annotations

import select

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections

from web.conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="kept connections and their health check are PostgreSQL's: set "
        "JUESUAN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres",
    ),
]


@pytest.fixture
def usable_calls(monkeypatch) -> list[bool]:
    """Every `SELECT 1` health check Django makes, with its answer."""
    calls: list[bool] = []
    wrapper = type(connections[DEFAULT_DB_ALIAS])
    check = wrapper.is_usable

    def counted(self):
        calls.append(check(self))
        return calls[-1]

    monkeypatch.setattr(wrapper, "is_usable", counted)
    return calls


def _get(client, url: str) -> int:
    """A request as a server handles it: Django's test client leaves out close_old_connections
    at its start, which is what clears a kept connection's checked flag."""
    close_old_connections()
    return client.get(url).status_code


def _backend() -> int:
    return connections[DEFAULT_DB_ALIAS].connection.info.backend_pid


@pytest.fixture(autouse=True)
def _closed_after():
    """A connection a failed test left broken is not handed to the next test's setup."""
    yield
    connections[DEFAULT_DB_ALIAS].close()


def _end_backend(pid: int) -> None:
    """End the kept connection's backend as an administrator does, and wait until its end has
    reached the connection's socket: pg_terminate_backend only signals the backend, which sends
    its FATAL message and exits a moment later."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    socket = connections[DEFAULT_DB_ALIAS].connection.pgconn.socket
    readable, _, _ = select.select([socket], [], [], 30)
    assert readable, "the ended backend said nothing on the socket within 30 s"


def test_a_quiet_kept_connection_is_used_without_a_check(client, world, usable_calls):
    client.force_login(world.users["finance"])
    assert _get(client, "/") == 200
    kept = _backend()
    assert _get(client, "/") == 200
    assert _backend() == kept
    assert usable_calls == []


def test_a_connection_the_server_ended_is_replaced_before_the_request(client, world, usable_calls):
    client.force_login(world.users["finance"])
    assert _get(client, "/") == 200
    ended = _backend()
    _end_backend(ended)
    assert _get(client, "/") == 200
    assert usable_calls == [False]  # checked, found gone, and replaced
    assert _backend() != ended
