"""Reading one row and inserting one, with statements composed once per model.

The ORM composes each query anew: for a one-row read or insert that cost a few tenths of a
millisecond of Python, where the database answers in a few hundredths. The paths every create
takes (the article, the tag, the annotation, its history record and its change-log entry) ran
five of them. These compose the same SQL the ORM would, once per model and database, from the
model's own fields, prepare values with the fields' own methods, and make instances with
`Model.from_db`, as the ORM does. No signal is sent: callers that need one say so.
"""

from functools import cache

from django.db import connections, router


@cache
def _insert_statement(model, alias: str):
    quote = connections[alias].ops.quote_name
    meta = model._meta
    # The database numbers the row, as `save()` leaves it to when no primary key is set.
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})"
        f" RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def insert(obj) -> None:
    """INSERT `obj` as `save()` does a new row (auto_now fields set, each value prepared by its
    field) and set its primary key; no signal is sent. Inside a transaction when the caller
    writes more than this row."""
    model = type(obj)
    connection = connections[router.db_for_write(model, instance=obj)]
    sql, fields = _insert_statement(model, connection.alias)
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias


@cache
def _select_statement(model, field_name: str, lock: bool, alias: str):
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    key = meta.get_field(field_name)
    columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(key.column)} = %s"
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql, key


def read_one(model, field_name: str, value, *, lock: bool = False):
    """The instance of `model` whose unique field `field_name` equals `value`, or None.

    `lock=True`, inside a transaction, locks its row until the transaction ends, as
    `select_for_update()` does (SQLite's transactions here take the write lock up front)."""
    connection = connections[router.db_for_read(model)]
    sql, key = _select_statement(model, field_name, lock, connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [key.get_db_prep_value(value, connection)])
        row = cursor.fetchone()
    return None if row is None else from_row(model, connection, row)


@cache
def _converters(model, alias: str):
    connection = connections[alias]
    converters = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if functions:
            converters.append((index, column, functions))
    return [field.attname for field in model._meta.concrete_fields], converters


def from_row(model, connection, row):
    """The instance of `model` whose concrete fields, in order, hold `row`'s values, each
    converted as the ORM converts what it reads (SQLite returns datetimes as text)."""
    names, converters = _converters(model, connection.alias)
    if converters:
        row = list(row)
        for index, column, functions in converters:
            for convert in functions:
                row[index] = convert(row[index], column, connection)
    return model.from_db(connection.alias, names, row)
