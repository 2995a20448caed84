import datetime
from importlib import import_module

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from annotations.access import EDITORS_GROUP
from annotations.anchoring import context_around
from annotations.models import Annotation, ChangeKind, Tag
from annotations.services import Counted, count_change, create_article, record_changes
from newsroom.models import Article, BlockKind, BlockText

User = get_user_model()

DEFAULT_TAGS = {
    "claim": ("Claim", "#b45309", "c", 1),
    "rebuttal": ("Rebuttal", "#b91c1c", "r", 2),
    "figure": ("Figure", "#1d4ed8", "f", 3),
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"reader{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


def editors_group() -> Group:
    """The "Editors" group with its permissions, as the data migration makes it. Tests that
    flush the database (live server, browser) lose the migration's group, so it is made again
    here when missing."""
    migration = import_module("annotations.migrations.0002_default_tags_and_editors")
    group, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
    for app_label, codename in migration.EDITOR_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


class EditorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"editor{n}")

    @factory.post_generation
    def editors_group(self, create, extracted, **kwargs):
        if create:
            self.groups.add(editors_group())


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


def tag(slug: str) -> Tag:
    """One of the three default tags, made again if a transactional test flushed it."""
    label, color, shortcut, position = DEFAULT_TAGS[slug]
    return Tag.objects.get_or_create(
        slug=slug,
        defaults={"label": label, "color": color, "shortcut": shortcut, "position": position},
    )[0]


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    label = factory.Sequence(lambda n: f"Tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")
    color = "#4b5563"
    shortcut = ""


SAMPLE_BLOCKS = [
    BlockText(BlockKind.PARAGRAPH, "The council said 30% of the budget went to roads."),
    BlockText(
        BlockKind.PHOTO_CREDIT,
        "Photo: example.org by A. Person, https://creativecommons.org/licenses/by/2.0/ A road",
    ),
    BlockText(BlockKind.HEADING, "What the Mayor Said"),
    BlockText(BlockKind.PARAGRAPH, "The mayor denied it and said the figure was 12%."),
]


class ArticleFactory(factory.django.DjangoModelFactory):
    """An article with blocks; pass `blocks=[BlockText(...), ...]` to choose the text."""

    class Meta:
        model = Article

    source_id = factory.Sequence(lambda n: f"article_{n:04d}")
    date = datetime.date(2025, 8, 8)
    title = factory.Sequence(lambda n: f"Article number {n}")
    blocks = SAMPLE_BLOCKS

    @classmethod
    def _create(cls, model_class, *args, blocks=SAMPLE_BLOCKS, **kwargs):
        return create_article(blocks=blocks, **kwargs)


class AnnotationFactory(factory.django.DjangoModelFactory):
    """An anchored annotation; give `quote` (first occurrence is used) or `start`/`end`."""

    class Meta:
        model = Annotation

    article = factory.SubFactory(ArticleFactory)
    tag = factory.LazyFunction(lambda: tag("claim"))
    author = factory.SubFactory(EditorFactory)
    note = ""

    @classmethod
    def _create(cls, model_class, *args, quote=None, start=None, end=None, **kwargs):
        body = kwargs["article"].body
        if quote is not None and start is None:
            start = body.index(quote)
            end = start + len(quote)
        if start is None:
            start, end = 4, 11
        prefix, suffix = context_around(body, start, end)
        kwargs.setdefault("status", "anchored")
        annotation = model_class.objects.create(
            start=start,
            end=end,
            quote=body[start:end] if quote is None else quote,
            prefix=prefix,
            suffix=suffix,
            **kwargs,
        )
        # As every write does (annotations/services/): the article's version moves on, and
        # the counts with it.
        change = (annotation.pk, ChangeKind.CREATED, None, None)
        record_changes(annotation.article_id, [change], actor=annotation.author)
        count_change(None, Counted.of(annotation))
        kwargs["article"].refresh_from_db(fields=["annotations_version"])
        return annotation
