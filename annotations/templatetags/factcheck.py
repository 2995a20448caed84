"""Template filters for the desk's fragments (templates/annotations/factcheck.html)."""

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from ..models import ReviewState
from ..services import MENTION, REPLY_MAX_LENGTH, SOURCE_MAX_LENGTH

register = template.Library()


@register.filter
def with_mentions(text: str) -> SafeString:
    """The text, escaped, line breaks kept, each `@username` set apart (it may name no one:
    only the services decide who is mentioned, this only shows the words)."""
    out, last = [], 0
    for match in MENTION.finditer(text or ""):
        out.append(escape(text[last : match.start()]))
        out.append(format_html('<strong class="mention">{}</strong>', match.group()))
        last = match.end()
    out.append(escape((text or "")[last:]))
    return mark_safe("".join(out).replace("\n", "<br>"))


@register.filter
def reply_count(annotation) -> int:
    """`reply_count` when the list's query counted it (`with_desk()`), else one query."""
    counted = getattr(annotation, "reply_count", None)
    return counted if counted is not None else annotation.replies.count()


@register.simple_tag
def desk_settings() -> dict:
    """What the fragments need whichever view renders them: the states and the limits."""
    return {
        "states": ReviewState.choices,
        "source_max": SOURCE_MAX_LENGTH,
        "reply_max": REPLY_MAX_LENGTH,
    }
