"""Who is asking, read on every request: the session row and the signed-in user.

Django's database sessions and model backend, unchanged in what they keep and check (the
session's expiry, the user being active, the session tied to the password's hash by
django.contrib.auth), each reading its row with one SQL statement written once (web/sql.py)
instead of an ORM query composed anew on every request.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db

from juesuan.web.accounts.models import User
from juesuan.web.sql import Columns, now_param, rows

USER = Columns(User, "u")


class SessionStore(db.SessionStore):
    """SESSION_ENGINE: sessions in the database, loaded by one precomposed query."""

    def load(self) -> dict:
        found = rows(
            "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s",
            [self.session_key, now_param()],
        )
        if not found:  # unknown or expired: a new session (as Django's own store does)
            self._session_key = None
            return {}
        return self.decode(found[0][0])


class UserBackend(ModelBackend):
    """Sign-in by username and password as Django's model backend; the user of a session read
    by one precomposed query."""

    def get_user(self, user_id):
        found = rows(f"SELECT {USER.sql} FROM accounts_user u WHERE u.id = %s", [user_id])
        user = USER.take(found[0]) if found else None
        return user if user is not None and self.user_can_authenticate(user) else None
