"""Finding annotations across articles: the filters the desk page and `GET /api/annotations/`
share, checked by one form so both refuse bad values in the same words, and the query they
make. docs/search.md describes them.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from newsroom.models import Article

from . import search
from .models import UNSETTLED_STATES, AnchorStatus, Annotation, ReviewState, Tag

# What the desk calls an open claim: a passage tagged `claim` whose check is not settled.
CLAIM_TAG = "claim"
OPEN_STATES = UNSETTLED_STATES  # claims the desk has not settled (models.py)
SETTLED_STATES = (ReviewState.VERIFIED, ReviewState.DISPUTED, ReviewState.RESOLVED)

# The one-click views of the desk page, as the filters they stand for (shareable URLs).
OPEN_CLAIMS = {"tag": [CLAIM_TAG], "review": [s.value for s in OPEN_STATES]}
WAITING_FOR_REVIEW = {"status": [AnchorStatus.FUZZY.value, AnchorStatus.ORPHANED.value]}

FILTER_NAMES = ("q", "tag", "author", "review", "status", "article", "since")


def _no_such(what: str) -> dict:
    return {
        "invalid_choice": f"There is no {what} “%(value)s”.",
        "invalid_pk_value": f"There is no {what} “%(pk)s”.",
    }


class AnnotationFilter(forms.Form):
    """Each filter may be given several times (`?tag=claim&tag=figure`): any of the values
    matches. Different filters all apply. `q` holds words searched in the quote, the note and
    the replies (annotations/search.py)."""

    q = forms.CharField(required=False, max_length=search.MAX_QUERY_CHARS, strip=True)
    tag = forms.MultipleChoiceField(required=False, error_messages=_no_such("tag"))
    author = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.order_by("username"),
        to_field_name="username",
        required=False,
        error_messages=_no_such("user"),
    )
    review = forms.MultipleChoiceField(
        choices=ReviewState.choices, required=False, error_messages=_no_such("review state")
    )
    status = forms.MultipleChoiceField(
        choices=AnchorStatus.choices, required=False, error_messages=_no_such("anchoring status")
    )
    article = forms.ModelMultipleChoiceField(
        queryset=Article.objects.defer("body"),
        to_field_name="source_id",
        required=False,
        error_messages=_no_such("article"),
    )
    since = forms.DateTimeField(
        required=False,
        help_text="Created at or after this time (a date means its midnight).",
        error_messages={"invalid": "Give a date (2025-08-08) or a time (2025-08-08T14:00)."},
    )

    def __init__(self, data=None, **kwargs) -> None:
        if data is not None:
            # A form sends its empty controls too (`author=&article=`): they choose nothing.
            data = data.copy()
            for key in list(data):
                data.setlist(key, [value for value in data.getlist(key) if value.strip()])
        super().__init__(data, **kwargs)
        self.fields["tag"].choices = Tag.objects.values_list("slug", "label")

    def problems(self) -> list[str]:
        """The errors as sentences naming the filter: `tag: There is no tag “x”.`"""
        return [
            f"{name}: {message}" for name, messages in self.errors.items() for message in messages
        ]

    def annotations(self) -> QuerySet:
        """The annotations that pass every filter given: ranked best first when there are
        search words, else newest first. Call after `is_valid()`."""
        data = self.cleaned_data
        annotations = Annotation.objects.all()
        if data["tag"]:
            annotations = annotations.filter(tag__slug__in=data["tag"])
        if data["author"]:
            annotations = annotations.filter(author__in=data["author"])
        if data["review"]:
            annotations = annotations.filter(review_state__in=data["review"])
        if data["status"]:
            annotations = annotations.filter(status__in=data["status"])
        if data["article"]:
            annotations = annotations.filter(article__in=data["article"])
        if data["since"]:
            annotations = annotations.filter(created__gte=data["since"])
        if search.words_of(data["q"]):
            return search.matching(annotations, data["q"]).order_by(
                "-search_rank", "-created", "-id"
            )
        return annotations.order_by("-created", "-id")

    def is_active(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in FILTER_NAMES)
