"""Re-anchoring when an article's text changes (docs/anchoring.md): newsroom edits through
`replace_article_text`, what becomes of each annotation, and the writes it costs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations import services
from annotations.anchoring import (
    context_around,
)
from annotations.models import AnchorStatus, Annotation
from annotations.services import reanchor_article, replace_article_text
from newsroom.models import Article, ArticleRevision, BlockKind, BlockText

from .factories import AnnotationFactory, ArticleFactory

P, H = BlockKind.PARAGRAPH, BlockKind.HEADING

COUNCIL = [
    BlockText(P, "The council said 30% of the budget went to roads last year."),
    BlockText(H, "What the Mayor Said"),
    BlockText(P, "The mayor denied it and said the figure was 12%, not 30%."),
    BlockText(P, "Zebras were not consulted about the xylophone fund, a spokesman admitted."),
]


AT_32 = "The council said 32% of the budget went to roads last year."


def edit(article: Article, blocks, **kwargs) -> ArticleRevision | None:
    article.refresh_from_db()
    return replace_article_text(
        article, date=article.date, title=article.title, blocks=blocks, **kwargs
    )


def replaced(blocks, index: int, text: str) -> list[BlockText]:
    return [BlockText(b.kind, text) if i == index else b for i, b in enumerate(blocks)]


def reloaded(annotation: Annotation) -> Annotation:
    annotation.refresh_from_db()
    return annotation


def text_at(annotation: Annotation) -> str:
    return annotation.article.body[annotation.start : annotation.end]


@pytest.fixture
def council(db):
    return ArticleFactory(source_id="council", title="Council budget row", blocks=COUNCIL)


# --- Newsroom edits ---------------------------------------------------------------------------


@pytest.mark.django_db
class TestNewsroomEdits:
    def test_it_moves_an_annotation_when_a_paragraph_is_inserted_before_it(self, council):
        annotation = AnnotationFactory(article=council, quote="the figure was 12%")
        old_start = annotation.start
        inserted = BlockText(P, "Updated on Monday with the mayor's reply.")

        revision = edit(council, [COUNCIL[0], inserted, *COUNCIL[1:]])

        annotation = reloaded(annotation)
        assert annotation.status == AnchorStatus.ANCHORED
        assert annotation.start == old_start + len(inserted.text) + 2
        assert text_at(annotation) == "the figure was 12%"
        assert revision.anchoring_report == {"kept": 0, "moved": 1, "fuzzy": 0, "orphaned": 0}

    def test_it_keeps_an_annotation_above_an_insertion_where_it_was(self, council):
        annotation = AnnotationFactory(article=council, quote="30% of the budget")
        start = annotation.start
        revision = edit(council, [*COUNCIL, BlockText(P, "A late paragraph.")])
        annotation = reloaded(annotation)
        assert (annotation.start, annotation.status) == (start, AnchorStatus.ANCHORED)
        assert revision.anchoring_report == {"kept": 1, "moved": 0, "fuzzy": 0, "orphaned": 0}

    def test_it_refreshes_the_context_of_an_annotation_whose_neighbours_changed(self, council):
        annotation = AnnotationFactory(article=council, quote="the figure was 12%")
        edit(
            council,
            replaced(
                COUNCIL, 2, "The mayor angrily denied it and said the figure was 12%, not 30%."
            ),
        )
        annotation = reloaded(annotation)
        assert annotation.status == AnchorStatus.ANCHORED
        assert text_at(annotation) == "the figure was 12%"
        assert (annotation.prefix, annotation.suffix) == context_around(
            annotation.article.body, annotation.start, annotation.end
        )
        assert "angrily" in annotation.prefix

    def test_it_places_a_quote_whose_typo_was_fixed_as_fuzzy_on_the_corrected_words(self, db):
        article = ArticleFactory(
            blocks=[
                BlockText(P, "Opening lines that nobody annotated at all."),
                BlockText(P, "The councel agreed to fund the new bridge by spring."),
            ]
        )
        annotation = AnnotationFactory(article=article, quote="councel agreed to fund")
        prefix, suffix = annotation.prefix, annotation.suffix

        revision = edit(
            article,
            replaced(
                article.blocks.all(), 1, "The council agreed to fund the new bridge by spring."
            ),
        )

        annotation = reloaded(annotation)
        assert annotation.status == AnchorStatus.FUZZY
        assert text_at(annotation) == "council agreed to fund"
        # The stored quote and its context keep the original words until an editor accepts.
        assert (annotation.quote, annotation.prefix, annotation.suffix) == (
            "councel agreed to fund",
            prefix,
            suffix,
        )
        assert revision.anchoring_report["fuzzy"] == 1

    def test_it_orphans_an_annotation_whose_sentence_was_deleted_and_keeps_it(self, council):
        annotation = AnnotationFactory(article=council, quote="Zebras were not consulted")
        start, end, pk = annotation.start, annotation.end, annotation.pk

        revision = edit(council, COUNCIL[:3])

        annotation = Annotation.objects.get(pk=pk)  # never deleted
        assert annotation.status == AnchorStatus.ORPHANED
        assert (annotation.start, annotation.end) == (start, end)  # its last known place
        assert annotation.quote == "Zebras were not consulted"
        assert revision.anchoring_report == {"kept": 0, "moved": 0, "fuzzy": 0, "orphaned": 1}
        # The place it had is still readable, in the revision's copy of the old body.
        assert revision.body[start:end] == annotation.quote

    def test_it_uses_the_context_to_pick_the_right_one_of_a_repeated_phrase(self, db):
        first = "Last year the council said the figure was 12% for schools."
        second = "This year the council said the figure was 30% for roads."
        article = ArticleFactory(blocks=[BlockText(P, first), BlockText(P, second)])
        body = article.body
        start = body.index("the council said", len(first))
        annotation = AnnotationFactory(article=article, start=start, end=start + 16)

        # The two paragraphs swap, and the second is reworded around the phrase.
        edit(
            article,
            [
                BlockText(P, "This year, the council said the figure was 30% for roads."),
                BlockText(P, first),
            ],
        )

        annotation = reloaded(annotation)
        assert annotation.status == AnchorStatus.ANCHORED
        assert text_at(annotation) == "the council said"
        assert annotation.article.body[annotation.end :].startswith(" the figure was 30%")

    def test_it_puts_a_figure_changed_from_30_to_32_percent_on_the_new_figure_as_fuzzy(
        self, council
    ):
        annotation = AnnotationFactory(article=council, quote="30%")  # the first, in paragraph 1

        edit(
            council,
            replaced(COUNCIL, 0, AT_32),
        )

        annotation = reloaded(annotation)
        assert annotation.status == AnchorStatus.FUZZY
        assert text_at(annotation) == "32%"
        assert annotation.quote == "30%"

    def test_it_never_moves_a_changed_figure_onto_the_same_figure_elsewhere(self, council):
        # "30%" also appears, untouched, in the mayor's paragraph. The council's sentence is
        # rewritten: nothing near fits, so the annotation is orphaned, not moved over there.
        annotation = AnnotationFactory(article=council, quote="30%")
        assert annotation.start < len(COUNCIL[0].text)

        edit(
            council,
            replaced(COUNCIL, 0, "Roads took almost a third of all spending, officials said."),
        )

        annotation = reloaded(annotation)
        assert annotation.status == AnchorStatus.ORPHANED
        assert annotation.start < len(COUNCIL[0].text)

    def test_it_orphans_everything_when_the_whole_article_is_replaced(self, council):
        quotes = ["30% of the budget", "What the Mayor Said", "12%", "xylophone fund"]
        annotations = [AnnotationFactory(article=council, quote=q) for q in quotes]
        places = {a.pk: (a.start, a.end) for a in annotations}

        revision = edit(
            council,
            [
                BlockText(P, "Storm warning for the coast tonight."),
                BlockText(P, "Ferries are cancelled until Thursday, the port authority said."),
            ],
        )

        assert revision.anchoring_report == {"kept": 0, "moved": 0, "fuzzy": 0, "orphaned": 4}
        for annotation in Annotation.objects.filter(article=council):
            assert annotation.status == AnchorStatus.ORPHANED
            assert (annotation.start, annotation.end) == places[annotation.pk]

    def test_it_changes_nothing_and_writes_nothing_when_the_body_is_unchanged(self, council):
        annotations = [
            AnnotationFactory(article=council, quote="30% of the budget"),
            AnnotationFactory(article=council, quote="12%", status=AnchorStatus.FUZZY),
            AnnotationFactory(article=council, quote="Zebras", status=AnchorStatus.ORPHANED),
        ]
        before = list(Annotation.objects.order_by("pk").values())
        history = Annotation.history.count()

        with CaptureQueriesContext(connection) as queries:
            report = reanchor_article(council, council.body)
            revision = edit(council, COUNCIL)

        assert revision is None
        assert report.as_dict() == {"kept": 1, "moved": 0, "fuzzy": 1, "orphaned": 1}
        assert report.written == 0
        writes = [
            q["sql"] for q in queries if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}
        ]
        assert writes == []
        assert list(Annotation.objects.order_by("pk").values()) == before
        assert Annotation.history.count() == history
        assert not ArticleRevision.objects.exists()
        assert len(annotations) == 3

    def test_it_replaces_the_blocks_without_a_revision_when_only_a_kind_changes(self, council):
        annotation = AnnotationFactory(article=council, quote="What the Mayor Said")
        revision = edit(council, [COUNCIL[0], BlockText(P, COUNCIL[1].text), *COUNCIL[2:]])
        assert revision is None
        assert list(council.blocks.values_list("kind", flat=True)) == [P, P, P, P]
        assert reloaded(annotation).status == AnchorStatus.ANCHORED

    def test_it_carries_a_quote_across_blocks(self, council):
        quote = "roads last year.\n\nWhat the Mayor"
        annotation = AnnotationFactory(article=council, quote=quote)
        edit(council, [BlockText(H, "Budget"), *COUNCIL])
        annotation = reloaded(annotation)
        assert (annotation.status, text_at(annotation)) == (AnchorStatus.ANCHORED, quote)

    def test_it_counts_offsets_in_code_points_after_an_emoji(self, db):
        article = ArticleFactory(
            blocks=[BlockText(P, "Fans 🎉 cheered as the council said 30% went to roads.")]
        )
        annotation = AnnotationFactory(article=article, quote="30% went to roads")
        edit(article, [BlockText(P, "Fans 🎉🎉 cheered as the council said 30% went to roads.")])
        annotation = reloaded(annotation)
        assert text_at(annotation) == "30% went to roads"
        assert annotation.start == article.body.index("30%")

    def test_it_anchors_again_an_orphan_whose_text_comes_back(self, council):
        annotation = AnnotationFactory(article=council, quote="Zebras were not consulted")
        edit(council, COUNCIL[:3])
        assert reloaded(annotation).status == AnchorStatus.ORPHANED

        revision = edit(council, COUNCIL)

        annotation = reloaded(annotation)
        assert annotation.status == AnchorStatus.ANCHORED
        assert text_at(annotation) == "Zebras were not consulted"
        assert revision.anchoring_report["orphaned"] == 0

    def test_it_anchors_again_a_fuzzy_annotation_when_the_original_words_return(self, council):
        annotation = AnnotationFactory(article=council, quote="30%")
        edit(
            council,
            replaced(COUNCIL, 0, AT_32),
        )
        assert reloaded(annotation).status == AnchorStatus.FUZZY

        edit(council, COUNCIL)

        annotation = reloaded(annotation)
        assert (annotation.status, text_at(annotation)) == (AnchorStatus.ANCHORED, "30%")

    def test_it_keeps_a_fuzzy_annotation_on_its_words_while_text_elsewhere_changes(self, council):
        annotation = AnnotationFactory(article=council, quote="30%")
        edit(
            council,
            replaced(COUNCIL, 0, AT_32),
        )
        edit(
            council,
            [
                BlockText(H, "Budget"),
                *replaced(
                    COUNCIL, 0, "The council said 32% of the budget went to roads last year."
                ),
            ],
        )
        annotation = reloaded(annotation)
        assert (annotation.status, text_at(annotation), annotation.quote) == (
            AnchorStatus.FUZZY,
            "32%",
            "30%",
        )

    def test_it_records_each_change_in_the_annotations_history(self, council, staff):
        annotation = AnnotationFactory(article=council, quote="the figure was 12%")
        edit(council, [BlockText(H, "Budget"), *COUNCIL], changed_by=staff, origin="admin")
        latest = annotation.history.first()
        assert (latest.history_type, latest.history_user) == ("~", staff)
        assert latest.history_change_reason == "Re-anchored: the article's text changed (admin)"
        assert latest.start == reloaded(annotation).start

    def test_it_writes_one_revision_per_body_change_with_its_summary(self, council, staff):
        edit(council, [*COUNCIL, BlockText(P, "One more.")], changed_by=staff, origin="admin")
        edit(council, COUNCIL)
        first, second = ArticleRevision.objects.order_by("pk")
        assert (first.origin, first.changed_by, first.summary) == (
            "admin",
            staff,
            "1 block added, +11 characters",
        )
        assert second.origin == "import" and second.summary == "1 block removed, -11 characters"
        assert second.body_after() == Article.objects.get(pk=council.pk).body
        assert first.body_after() == second.body

    def test_it_refuses_an_article_without_text(self, council):
        with pytest.raises(ValueError, match="at least one block"):
            edit(council, [])
        with pytest.raises(ValueError, match="Block 2 of the article is empty"):
            edit(council, [COUNCIL[0], BlockText(P, "  ")])
        assert Article.objects.get(pk=council.pk).body == council.body

    def test_it_rolls_back_the_body_and_blocks_when_reanchoring_fails(self, council, monkeypatch):
        annotation = AnnotationFactory(article=council, quote="the figure was 12%")
        body = council.body

        def broken(*args, **kwargs):
            raise RuntimeError("re-anchoring failed")

        monkeypatch.setattr(services.articles, "reanchor_article", broken)
        with pytest.raises(RuntimeError):
            edit(council, [BlockText(H, "Budget"), *COUNCIL])

        council = Article.objects.get(pk=council.pk)
        assert council.body == body
        assert [b.text for b in council.blocks.all()] == [b.text for b in COUNCIL]
        assert not ArticleRevision.objects.exists()
        assert reloaded(annotation).start == annotation.start

    def test_it_re_anchors_thousands_of_annotations_in_a_few_queries(
        self, council, django_assert_max_num_queries
    ):
        body = council.body
        tag = AnnotationFactory(article=council, quote="12%").tag
        Annotation.objects.bulk_create(
            Annotation(article=council, tag=tag, start=s, end=s + 10, quote=body[s : s + 10])
            for s in range(0, len(body) - 10, 1)
            if body[s : s + 10].strip()
        )
        count = Annotation.objects.count()
        # select for update, blocks, delete + insert blocks, revision, annotations, one UPDATE
        # per shift / status (in batches of 900), the rest, history rows, revision report, save
        with django_assert_max_num_queries(20):
            revision = edit(council, [BlockText(H, "Budget"), *COUNCIL])
        assert sum(revision.anchoring_report.values()) == count == Annotation.objects.count()
        assert revision.anchoring_report["moved"] >= count - 5
