"""Model instances from SQL written once, for the few queries every page runs.

Composing and compiling a query with the ORM costs the server 0.5–2 ms of Python each time
(more with joins and subqueries), several times what the database takes to answer it, and a
page ran four or five such queries before drawing anything. The queries run on every request —
the session, the user, the user's grants on the unit, the current dataset version — are written
as SQL once instead, and their rows made into instances as the ORM makes them (`Model.from_db`
after each field's database converters), so the code around them sees ordinary model objects.
The SQL is plain enough for PostgreSQL and SQLite alike. Everything else uses the ORM.

On PostgreSQL these statements are sent with their parameters bound by the server and prepared
once per connection (psycopg's prepared statements: settings.py sets `prepare_threshold`), so
the server parses and plans each once instead of on every request: the grants query with its
joins cost the database 0.47 ms of CPU planned each time, 0.1 ms prepared. The ORM's queries
keep Django's client-side binding, which psycopg never prepares.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections


def rows(sql: str, params: list | tuple = ()) -> list[tuple]:
    connection = connections[DEFAULT_DB_ALIAS]
    # Django's cursor (connected, health-checked, its queries logged and counted as any other)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from django.db.backends.postgresql.base import ServerBindingCursor

            # ...executing through a server-binding psycopg cursor, which may be prepared
            cursor.cursor.close()
            cursor.cursor = ServerBindingCursor(connection.connection)
        cursor.execute(sql, params)
        return cursor.fetchall()


def now_param():
    """The current time as a parameter compared with a DateTimeField's column."""
    from django.utils import timezone

    return connections[DEFAULT_DB_ALIAS].ops.adapt_datetimefield_value(timezone.now())


class Columns:
    """A model's columns under a table alias in a SELECT list (`sql`: every concrete field but
    those deferred), and the instance one row's share of them makes (`take`)."""

    def __init__(self, model, alias: str, defer: tuple[str, ...] = ()):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if f.attname not in defer]
        self.names = [f.attname for f in self.fields]
        self.width = len(self.fields)
        self._key = self.names.index(model._meta.pk.attname)
        self.sql = ", ".join(f'{alias}."{f.column}"' for f in self.fields)
        self._converters: dict[str, list] = {}

    def converters(self, connection) -> list:
        """[(index, expression, functions)] of the fields whose database value needs converting
        on this database (a JSON text decoded, SQLite's booleans and datetimes), as the ORM's
        compiler finds them."""
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(field.model._meta.db_table)
                functions = column.get_db_converters(connection)
                if functions:
                    found.append((index, column, functions))
            self._converters[connection.vendor] = found
        return found

    def take(self, row: tuple, start: int = 0):
        """The instance made of row[start:start + width]; None when its key is NULL (a LEFT
        JOIN that found nothing)."""
        values = list(row[start : start + self.width])
        if values[self._key] is None:
            return None
        connection = connections[DEFAULT_DB_ALIAS]
        for index, column, functions in self.converters(connection):
            for function in functions:
                values[index] = function(values[index], column, connection)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.names, values)
