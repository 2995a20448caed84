"""django-simple-history's `HistoricalRecords`, made cheaper to write through.

- `Model.history` builds its manager class anew on every access (`Manager.from_queryset`,
  which inspects every method of the queryset class), and every save of a tracked model goes
  through it: about a fifth of a millisecond per write, for the same class each time. Here the
  class is built once per queryset class and reused.
- A history record is only ever inserted, never updated: its model inserts it with a statement
  composed once (`config.statements.insert`) rather than through `Model.save`, which composed
  the same INSERT anew for each record.
- `record_history` writes an instance's record directly, for a caller that inserted the
  instance itself and so sent no `post_save` for the history to hear.
"""

from functools import cache

from django.db import models
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


def record_history(instance, history_type: str) -> None:
    """Write `instance`'s history record ("+" created, "~" changed, "-" deleted), as the
    history's own `post_save` and `post_delete` handlers do."""
    _RECORDS[type(instance)].create_historical_record(instance, history_type)
