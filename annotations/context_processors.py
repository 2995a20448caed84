"""What every page's header shows about the desk: how many unread mentions wait under "For
you". Counted only when a template asks (htmx fragments never do), so it costs no query
elsewhere."""

from functools import cache

from .models import Mention


def desk(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def unread_mentions() -> int:
        return Mention.objects.filter(user=user).unread().count()

    return {"unread_mentions": unread_mentions}
