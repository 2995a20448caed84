"""django-simple-history's `HistoricalRecords`, made cheaper to write through.

- `Model.history` builds its manager class anew on every access (`Manager.from_queryset`,
  which inspects every method of the queryset class), and every save of a tracked model goes
  through it: about a fifth of a millisecond per write, for the same class each time. Here the
  class is built once per queryset class and reused.
- A history record is only ever inserted, never updated: its model inserts it with a statement
  composed once (`config.statements.insert`) rather than through `Model.save`, which composed
  the same INSERT anew for each record.
- `record_history` writes an instance's record directly, for a caller that inserted the
  instance itself and so sent no `post_save` for the history to hear: it copies the stored row
  in the database rather than building a record in Python.
"""

from functools import cache

from django.db import connections, models, router
from django.utils import timezone
from simple_history import models as simple_history
from simple_history.manager import HistoryManager

from config.statements import insert

_RECORDS: dict[type, "HistoricalRecords"] = {}


class ReusedHistoryManager(HistoryManager):
    @classmethod
    @cache
    def from_queryset(cls, queryset_class, class_name=None):
        return super().from_queryset(queryset_class, class_name)


class InsertedOnce(models.Model):
    """The base of every history model: a new record is inserted by a composed-once statement."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding and self.pk is None and not args and not any(kwargs.values()):
            insert(self)
        else:
            super().save(*args, **kwargs)


class HistoricalRecords(simple_history.HistoricalRecords):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("history_manager", ReusedHistoryManager)
        kwargs.setdefault("bases", (InsertedOnce,))
        super().__init__(*args, **kwargs)

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        if sender is self.cls:
            _RECORDS[sender] = self


# The fields django-simple-history adds to a history model; the others are copied.
ADDED_FIELDS = {
    "history_id",
    "history_date",
    "history_user",
    "history_type",
    "history_change_reason",
}


def record_history(instance, history_type: str) -> None:
    """Write the history record of `instance`, just inserted ("+") or saved ("~"), as the
    history's own `post_save` handler does: who, when and why from the same places, the
    tracked fields copied from the row as stored, in one INSERT … SELECT."""
    records = _RECORDS[type(instance)]
    history = getattr(type(instance), records.manager_name).model
    connection = connections[router.db_for_write(history)]
    date = history._meta.get_field("history_date").get_db_prep_save(
        getattr(instance, "_history_date", None) or timezone.now(), connection
    )
    user = records.get_history_user(instance)
    reason = records.get_change_reason_for_object(instance, history_type, None)
    params = [date, user.pk if user is not None else None, history_type, reason, instance.pk]
    with connection.cursor() as cursor:
        cursor.execute(_copy_statement(type(instance), history, connection.alias), params)


@cache
def _copy_statement(model, history, alias: str) -> str:
    quote = connections[alias].ops.quote_name
    copied = [
        field.column for field in history._meta.concrete_fields if field.name not in ADDED_FIELDS
    ]
    into = [*copied, "history_date", "history_user_id", "history_type", "history_change_reason"]
    return (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(map(quote, into))})"
        f" SELECT {', '.join(map(quote, copied))}, %s, %s, %s, %s"
        f" FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} = %s"
    )
