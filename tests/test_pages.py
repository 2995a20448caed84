"""The article list and the article page as HTML: structure, marks, escaping, queries."""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from annotations.live import PAGE_SIZE
from annotations.models import AnchorStatus, Tag
from annotations.services import replace_article_text
from newsroom.models import ArticleRevision, BlockKind, BlockText

from .factories import AnnotationFactory, ArticleFactory, EditorFactory


class Blocks(HTMLParser):
    """Collects each `.block` element of a page: its tag, data-start and exact text."""

    VOID = {"br", "img", "input", "meta", "link", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[dict] = []
        self.marks: list[dict] = []
        self.links: list[str] = []
        self.depth = 0  # open elements inside the current block
        self.current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.current is None:
            if "block" in (attrs.get("class") or "").split():
                self.current = {"tag": tag, "start": int(attrs["data-start"]), "text": ""}
                self.depth = 1
            return
        if tag in self.VOID:
            return
        self.depth += 1
        if tag == "mark":
            self.marks.append(attrs)
        if tag == "a":
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if self.current is None or tag in self.VOID:
            return
        self.depth -= 1
        if self.depth == 0:
            self.blocks.append(self.current)
            self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.current["text"] += data


def parse(html: str) -> Blocks:
    parser = Blocks()
    parser.feed(html)
    return parser


def page(client, article):
    return client.get(reverse("article_detail", args=[article.source_id]))


# Login -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["article_list", "article_detail"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, article, name):
    url = reverse(name, args=[article.source_id] if name == "article_detail" else [])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# The list ---------------------------------------------------------------------------------


def test_it_lists_articles_with_title_link_date_and_counts_per_tag(
    client, viewer, article, claim, figure, rebuttal
):
    other = ArticleFactory(title="Quiet day", date=datetime.date(2025, 8, 1))
    AnnotationFactory(article=article, tag=claim, quote="30% of the budget")
    AnnotationFactory(article=article, tag=claim, quote="The mayor denied it")
    AnnotationFactory(article=article, tag=figure, quote="12%")
    client.force_login(viewer)
    response = client.get(reverse("article_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<a href="{article.get_absolute_url()}">Council budget row</a>' in html
    assert f'<a href="{other.get_absolute_url()}">Quiet day</a>' in html
    assert '<time datetime="2025-08-08">8 Aug 2025</time>' in html
    row = re.search(r"Council budget row</a>.*?</tr>", html, re.S).group()
    # Columns follow the tags' order: Claim, Rebuttal, Figure, then the total.
    assert re.findall(r'<td class="num" data-label="(\w+)">(\d+)</td>', row) == [
        ("Claim", "2"),
        ("Rebuttal", "0"),
        ("Figure", "1"),
        ("All", "3"),
    ]
    quiet = re.search(r"Quiet day</a>.*?</tr>", html, re.S).group()
    assert re.findall(r'<td class="num" data-label="\w+">(\d+)</td>', quiet) == ["0"] * 4


def test_it_links_the_csv_export_of_everything(client, viewer, article):
    client.force_login(viewer)
    html = client.get(reverse("article_list")).content.decode()
    assert f'href="{reverse("export_csv_all")}"' in html
    assert ">Export CSV</a>" in html


def test_it_lists_articles_in_a_constant_number_of_queries(
    client, viewer, claim, figure, django_assert_max_num_queries
):
    client.force_login(viewer)

    def load():
        with django_assert_max_num_queries(7):
            assert client.get(reverse("article_list")).status_code == 200

    author = EditorFactory()
    first = ArticleFactory()
    AnnotationFactory(article=first, tag=claim, quote="30% of the budget", author=author)
    load()
    for _ in range(30):
        article = ArticleFactory()
        AnnotationFactory(article=article, tag=claim, quote="30% of the budget", author=author)
        AnnotationFactory(article=article, tag=figure, quote="12%", author=author)
    load()


def test_it_pages_a_long_list(client, viewer):
    for _ in range(55):
        ArticleFactory()
    client.force_login(viewer)
    html = client.get(reverse("article_list")).content.decode()
    assert html.count("<tr>") == 51  # header row + 50
    assert 'href="?page=2"' in html
    assert client.get(reverse("article_list") + "?page=2").content.decode().count("<tr>") == 6


# The article page --------------------------------------------------------------------------


def test_it_renders_the_text_inside_an_article_with_headings_and_caption(client, viewer, article):
    client.force_login(viewer)
    response = page(client, article)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"<article [^>]*>\s*<header", html)
    assert '<h1 id="story-title">Council budget row</h1>' in html
    parsed = parse(html)
    assert [(b["tag"], b["text"]) for b in parsed.blocks] == [
        ("p", "The council said 30% of the budget went to roads."),
        (
            "figcaption",
            "Photo: example.org by A. Person, https://creativecommons.org/licenses/by/2.0/ A road",
        ),
        ("h2", "What the Mayor Said"),
        ("p", "The mayor denied it and said the figure was 12%."),
    ]
    assert parsed.links == ["https://creativecommons.org/licenses/by/2.0/"]
    assert '<figure id="block-1" class="photo-credit"><figcaption class="block caption"' in html


def test_it_gives_every_block_its_start_offset_in_the_body(client, viewer):
    article = ArticleFactory(
        blocks=[
            BlockText(BlockKind.PARAGRAPH, "Turnout 😀 rose."),
            BlockText(BlockKind.HEADING, "Café Society"),
            BlockText(BlockKind.PARAGRAPH, "Zweiter Absatz 🎉 hier."),
        ]
    )
    client.force_login(viewer)
    blocks = parse(page(client, article).content.decode()).blocks
    for block in blocks:
        assert article.body[block["start"] : block["start"] + len(block["text"])] == block["text"]
    assert "\n\n".join(b["text"] for b in blocks) == article.body


def test_it_links_the_export_of_this_article(client, viewer, article):
    client.force_login(viewer)
    html = page(client, article).content.decode()
    url = reverse("export_csv_article", args=[article.source_id])
    assert f'<a href="{url}" download>Export CSV</a>' in html


def test_it_answers_404_for_a_missing_article(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("article_detail", args=["no_such_article"]))
    assert response.status_code == 404


def test_it_draws_overlapping_and_nested_annotations_as_separate_marks(
    client, viewer, article, claim, figure, rebuttal
):
    # "30% of the budget" (claim) overlaps "the budget went to roads" (figure); "30%" nests
    # inside the claim (rebuttal); the text between stays plain.
    outer = AnnotationFactory(article=article, tag=claim, quote="30% of the budget")
    overlap = AnnotationFactory(article=article, tag=figure, quote="the budget went to roads")
    inner = AnnotationFactory(article=article, tag=rebuttal, quote="30%")
    client.force_login(viewer)
    html = page(client, article).content.decode()
    first = re.search(r'<p id="block-0" class="block" data-start="0">(.*?)</p>', html).group(1)
    assert first == (
        # The rebuttal nests in the claim's one mark; the figure crosses the claim's end, so
        # it alone is cut there, into a piece inside the claim and one after it.
        "The council said "
        f'<mark data-tag="claim" data-annotation="{outer.pk}">'
        f'<mark data-tag="rebuttal" data-annotation="{inner.pk}">30%</mark> of '
        f'<mark data-tag="figure" data-annotation="{overlap.pk}">the budget</mark>'
        "</mark>"
        f'<mark data-tag="figure" data-annotation="{overlap.pk}"> went to roads</mark>.'
    )
    parsed = parse(html)
    assert {m["data-annotation"] for m in parsed.marks} == {
        str(outer.pk),
        str(overlap.pk),
        str(inner.pk),
    }


def test_it_splits_a_highlight_that_crosses_blocks_and_the_licence_link(
    client, viewer, article, claim
):
    start = article.body.index("to roads")
    end = article.body.index("licenses/")
    cross = AnnotationFactory(article=article, tag=claim, start=start, end=end)
    client.force_login(viewer)
    parsed = parse(page(client, article).content.decode())
    assert [m["data-annotation"] for m in parsed.marks] == [str(cross.pk)] * 3
    assert parsed.blocks[0]["text"].endswith("to roads.")
    html = page(client, article).content.decode()
    assert (
        f'<a href="https://creativecommons.org/licenses/by/2.0/" rel="license noopener">'
        f'<mark data-tag="claim" data-annotation="{cross.pk}">https://creativecommons.org/'
        f"</mark>licenses/by/2.0/</a>"
    ) in html


def test_it_lists_annotations_with_quote_tag_note_author_and_time(client, viewer, article, claim):
    annotation = AnnotationFactory(
        article=article, tag=claim, quote="30% of the budget", note="Check the annual report."
    )
    client.force_login(viewer)
    html = page(client, article).content.decode()
    entry = re.search(rf'<li id="annotation-{annotation.pk}".*?</li>', html, re.S).group()
    assert '<q class="quote">30% of the budget</q>' in entry
    assert '<span class="tag-chip" data-tag="claim">Claim</span>' in entry
    assert "Check the annual report." in entry
    assert annotation.author.username in entry
    assert f'datetime="{annotation.created.isoformat()}"' in entry


def test_it_shows_the_toolbar_and_controls_to_editors_only(
    client, viewer, editor, other_editor, article, claim
):
    AnnotationFactory(article=article, tag=claim, quote="30%", author=editor)
    client.force_login(viewer)
    html = page(client, article).content.decode()
    assert 'role="toolbar"' not in html
    assert "data-can-annotate" not in html
    assert ">Delete<" not in html and ">Edit<" not in html

    client.force_login(other_editor)
    html = page(client, article).content.decode()
    assert 'role="toolbar" aria-label="Tag the selection"' in html
    assert ">Edit<" not in html and ">Delete<" not in html  # not theirs

    client.force_login(editor)
    html = page(client, article).content.decode()
    assert ">Edit<" in html and ">Delete<" in html
    assert "<textarea" not in html  # edit forms come when asked (?edit=, or htmx)
    assert (
        '<button type="button" class="tag-button" data-tag="claim" data-shortcut="c" '
        'aria-keyshortcuts="c">Claim <kbd aria-hidden="true">C</kbd></button>'
    ) in html


def test_it_opens_an_entry_for_editing_without_javascript(
    client, editor, other_editor, article, claim
):
    annotation = AnnotationFactory(
        article=article, tag=claim, quote="30%", author=editor, note="n1"
    )
    url = f"{article.get_absolute_url()}?edit={annotation.pk}"
    client.force_login(editor)
    html = page(client, article).content.decode()
    assert f'href="{url}#annotation-{annotation.pk}"' in html
    html = client.get(url).content.decode()
    assert f'<form method="post" action="/annotations/{annotation.pk}/update/"' in html
    assert 'maxlength="5000" autofocus>n1</textarea>' in html
    client.force_login(other_editor)
    assert "<textarea" not in client.get(url).content.decode()  # not theirs: no form
    assert client.get(article.get_absolute_url() + "?edit=abc").status_code == 200


@pytest.mark.parametrize("value", ["²", "①", "٣", "99999999999999999999999", "-1", " 1"])
def test_it_shows_the_page_without_a_form_for_an_edit_value_that_is_no_id(
    client, editor, article, claim, value
):
    # str.isdigit() accepts "²" and "①", which int() refuses; int() reads "٣" as 3, but an id
    # in a URL is ASCII digits. No annotation has the huge number as its id.
    AnnotationFactory(article=article, tag=claim, quote="30%", author=editor, note="n1")
    client.force_login(editor)
    response = client.get(article.get_absolute_url(), {"edit": value})
    assert response.status_code == 200
    assert "<textarea" not in response.content.decode()


def test_it_styles_tags_from_the_database_in_a_nonced_style_element(client, viewer, article):
    Tag.objects.create(label="Quote", slug="quote", color="#0f766e", shortcut="q", position=9)
    client.force_login(viewer)
    response = page(client, article)
    html = response.content.decode()
    nonce = re.search(r'<style nonce="([^"]+)">', html).group(1)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert '[data-tag="quote"]{--tag:#0f766e;--tag-ink:#ffffff;' in html
    assert 'style="' not in html  # CSP forbids style attributes


def test_it_escapes_hostile_text_everywhere(client, viewer, claim):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    article = ArticleFactory(
        title=f"Title {payload}",
        blocks=[
            BlockText(BlockKind.PARAGRAPH, f"Body {payload} end."),
            BlockText(BlockKind.PHOTO_CREDIT, 'Photo: x, https://e.org/"onmouseover="alert(1) y'),
        ],
    )
    AnnotationFactory(article=article, tag=claim, quote="<script>", note=f"Note {payload}")
    client.force_login(viewer)
    for url in (reverse("article_list"), article.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    html = client.get(article.get_absolute_url()).content.decode()
    # The link stops at the quote; the rest is text, escaped.
    assert '"onmouseover' not in html
    assert (
        'href="https://e.org/" rel="license noopener">https://e.org/</a>&quot;onmouseover=' in html
    )


def test_it_shows_annotations_that_need_review_after_the_text_changed(
    client, editor, article, claim, figure
):
    fuzzy = AnnotationFactory(article=article, tag=figure, quote="12%", author=editor)
    orphan = AnnotationFactory(article=article, tag=claim, quote="went to roads", author=editor)
    kept = AnnotationFactory(article=article, tag=claim, quote="The mayor denied it")
    ArticleRevision.objects.create(
        article=article,
        title=article.title,
        date=article.date,
        body=article.body,
        origin="import",
        summary="1 block changed, +0 characters",
        anchoring_report={"kept": 1, "moved": 0, "fuzzy": 1, "orphaned": 1},
    )
    # As the re-anchoring leaves them: the fuzzy one on near-matching words ("13%"), the
    # orphan with its last known offsets.
    type(fuzzy).objects.filter(pk=fuzzy.pk).update(status=AnchorStatus.FUZZY)
    type(orphan).objects.filter(pk=orphan.pk).update(status=AnchorStatus.ORPHANED)
    client.force_login(editor)
    html = page(client, article).content.decode()
    assert "2 annotations need review" in html
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "1 kept in place, 0 moved with their text, 1 placed approximately, 1 orphaned" in text
    review = re.search(r'<section id="review".*?</section>', html, re.S).group()
    assert f'id="review-{fuzzy.pk}"' in review and f'id="review-{orphan.pk}"' in review
    assert "<dt>Was</dt><dd><q>12%</q></dd>" in review
    assert '<q class="quote">went to roads</q>' in review
    assert ">Accept<" in review and ">Re-attach<" in review and ">Re-select<" in review
    marks = parse(html).marks
    drawn = {m["data-annotation"]: m for m in marks}
    assert str(orphan.pk) not in drawn  # an orphan is never drawn on the wrong words
    assert drawn[str(fuzzy.pk)]["data-status"] == "fuzzy"
    assert "data-status" not in drawn[str(kept.pk)]


def test_it_reports_a_real_text_change_and_lists_the_orphan(client, editor, article, claim):
    # The quoted sentence is deleted: no re-anchoring can place it, so it is orphaned, kept,
    # shown for review and never drawn.
    kept = AnnotationFactory(article=article, tag=claim, quote="30% of the budget", author=editor)
    gone = AnnotationFactory(article=article, tag=claim, quote="The mayor denied it", author=editor)
    blocks = [BlockText(b.kind, b.text) for b in article.blocks.all()][:3]
    replace_article_text(article, date=article.date, title=article.title, blocks=blocks)
    client.force_login(editor)
    html = page(client, article).content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "1 annotation needs review" in text
    assert "1 kept in place" in text and "1 orphaned" in text
    assert f'id="review-{gone.pk}"' in html and ">Re-attach<" in html
    drawn = {m["data-annotation"] for m in parse(html).marks}
    assert drawn == {str(kept.pk)}


def test_it_hides_the_review_section_when_the_text_never_changed(client, viewer, article):
    client.force_login(viewer)
    html = page(client, article).content.decode()
    assert re.search(r'<section id="review"[^>]*\shidden>', html)


def test_it_renders_the_page_in_a_constant_number_of_queries(
    client, editor, claim, figure, django_assert_max_num_queries
):
    article = ArticleFactory()
    client.force_login(editor)
    AnnotationFactory(article=article, tag=claim, quote="30%", author=editor)
    with django_assert_max_num_queries(12):
        assert page(client, article).status_code == 200
    length = len(article.body)
    for i in range(199):
        start = i % (length - 5)
        AnnotationFactory(
            article=article,
            tag=figure if i % 2 else claim,
            start=start,
            end=start + 5,
            author=editor,
        )
    with django_assert_max_num_queries(12):
        response = page(client, article)
    # The list shows its first page and loads the rest as the editor scrolls.
    html = response.content.decode()
    assert html.count('<li id="annotation-') == PAGE_SIZE
    assert 'id="annotation-more"' in html and 'hx-trigger="intersect once"' in html


def test_it_links_both_exports_on_the_list_and_the_article_page(client, viewer, article):
    client.force_login(viewer)
    html = client.get("/").content.decode()
    assert 'href="/export/annotations.csv"' in html and ">Export CSV</a>" in html
    assert 'href="/export/annotations.jsonld"' in html and ">Export JSON-LD</a>" in html
    html = client.get(article.get_absolute_url()).content.decode()
    assert f'href="/articles/{article.source_id}/export.csv"' in html
    assert f'href="/articles/{article.source_id}/export.jsonld"' in html
