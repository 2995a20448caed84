"""The seed format (docs/seed-format.md): parsing, tolerated variants, headings, refusals.

No database here: these are the pure functions of newsroom/seedformat.py. The command and the
database side are in test_import_command.py; decoding and reading files in
test_importer_files.py.
"""

import datetime
import unicodedata
from pathlib import Path

import pytest
from django.conf import settings

from newsroom.importer import read_article
from newsroom.models import BlockKind, body_from_blocks
from newsroom.seedformat import ImportRejected, classify_block, is_heading

from .seed_texts import PLAIN, parse

SEED = Path(settings.BASE_DIR) / "seeds" / "000_a83f44b084c319d9.txt"

PLAIN_BLOCKS = [
    (BlockKind.PARAGRAPH, "The council said 30% of the budget went to roads."),
    (
        BlockKind.PHOTO_CREDIT,
        "Photo: example.org by A. Person, https://creativecommons.org/licenses/by/2.0/ A road",
    ),
    (BlockKind.HEADING, "What the Mayor Said"),
    (BlockKind.PARAGRAPH, "The mayor denied it and said the figure was 12%."),
]


def blocks_of(text: str) -> list[tuple[str, str]]:
    return [(block.kind, block.text) for block in parse(text).blocks]


def rejection(text: str) -> str:
    with pytest.raises(ImportRejected) as error:
        parse(text)
    return error.value.reason


# --- The real seed ---------------------------------------------------------------------------


def test_it_parses_the_real_seed_into_its_blocks():
    article = read_article(SEED)

    assert article.source_id == "000_a83f44b084c319d9"
    assert article.date == datetime.date(2025, 8, 8)
    assert article.title == (
        "Russian Foreign Ministry: Ukrainian Children Coalition Statement 'Russophobic'"
    )
    headings = [b.text for b in article.blocks if b.kind == BlockKind.HEADING]
    assert headings == [
        "'Not About Helping Children'",
        "Russia Says It Supports Reunification",
        "Details on the Istanbul Negotiations",
        "Children 'Safe and Under State Care'",
        "Medinsky: Some in Ukraine Exploit the Issue",
    ]
    kinds = [b.kind for b in article.blocks]
    assert kinds == [
        BlockKind.PARAGRAPH,
        BlockKind.PHOTO_CREDIT,
        BlockKind.HEADING,
        BlockKind.PARAGRAPH,
        BlockKind.HEADING,
        BlockKind.PARAGRAPH,
        BlockKind.HEADING,
        BlockKind.PARAGRAPH,
        BlockKind.PARAGRAPH,
        BlockKind.HEADING,
        BlockKind.PARAGRAPH,
        BlockKind.HEADING,
        BlockKind.PARAGRAPH,
    ]
    assert article.blocks[1].text == (
        "Photo: commons.wikimedia.org by Mirek Pruchnicki, "
        "https://creativecommons.org/licenses/by/2.0/ Ukrainian refugees in Poland"
    )
    # Every line of the file after the header is one block, kept character for character.
    lines = [line for line in SEED.read_text(encoding="utf-8").split("\n")[1:] if line]
    assert [b.text for b in article.blocks] == lines


# --- Tolerated variants ----------------------------------------------------------------------


def test_it_parses_the_plain_format():
    article = parse(PLAIN)

    assert article.date == datetime.date(2025, 8, 8)
    assert article.title == "Council Budget Row"
    assert blocks_of(PLAIN) == PLAIN_BLOCKS


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(PLAIN.lstrip(" "), id="no leading space"),
        pytest.param("\t" + PLAIN.lstrip(" "), id="tab before the header"),
        pytest.param("\ufeff" + PLAIN, id="byte-order mark"),
        pytest.param(PLAIN.replace("\n", "\r\n"), id="CRLF"),
        pytest.param(PLAIN.replace("\n", "\r"), id="lone CR (old Mac)"),
        pytest.param(PLAIN.rstrip("\n"), id="no final newline"),
        pytest.param(PLAIN.replace("\n", " \t \n"), id="trailing spaces and tabs"),
        pytest.param(PLAIN.replace("\n\n", "\n\n\n\n\n"), id="runs of blank lines"),
        pytest.param(PLAIN.replace("\n\n", "\n  \t \n \n"), id="blank lines holding whitespace"),
        pytest.param(PLAIN + "\n\n\n", id="blank lines at the end"),
        pytest.param("\n\n" + PLAIN, id="blank lines before the header"),
        pytest.param(
            "\ufeff" + PLAIN.replace("\n\n", "\n \n\n").replace("\n", "\r\n").rstrip("\r\n"),
            id="all at once",
        ),
    ],
)
def test_it_tolerates_real_export_variants(variant):
    article = parse(variant)

    assert article.title == "Council Budget Row"
    assert blocks_of(variant) == PLAIN_BLOCKS
    # Same parse, same hash: re-importing the variant would change nothing.
    assert article.content_hash == parse(PLAIN).content_hash


def test_it_turns_each_whitespace_run_inside_a_block_into_one_space():
    text = " date 2025-01-01 Title\n\n  One\ttwo   three \n\t four\f five\vsix  \n"

    assert blocks_of(text) == [(BlockKind.PARAGRAPH, "One two three four five six")]


def test_it_collapses_whitespace_in_the_title():
    assert parse(" date 2025-01-01   A\t title  \t\n\nBody.").title == "A title"


def test_it_keeps_whitespace_the_browser_does_not_collapse():
    # A no-break space (30 %), an em space and a narrow no-break space stay as written: the
    # page shows them, so the offsets must count them.
    text = " date 2025-01-01 T\n\nIt rose 30\u00a0% in\u2003May, to 5\u202f000.\n"

    assert blocks_of(text) == [
        (BlockKind.PARAGRAPH, "It rose 30\u00a0% in\u2003May, to 5\u202f000.")
    ]


def test_it_keeps_emoji_and_counts_offsets_in_code_points():
    text = " date 2025-01-01 Vote 🗳️ day\n\nVote 🗳\ufe0f now, 👩🏽‍💻 later.\n"
    article = parse(text)
    body = body_from_blocks(article.blocks)

    assert article.title == "Vote 🗳️ day"
    assert body == "Vote 🗳\ufe0f now, 👩🏽‍💻 later."
    # "Vote " is 5 code points, the ballot box and its variation selector 2, then a space: a
    # browser counting UTF-16 units would say 9 (the ballot box is a surrogate pair).
    assert body.index("now") == 8
    assert body.index("later") == 8 + len("now, ") + len("👩🏽‍💻 ")


def test_it_keeps_combining_marks_as_written():
    decomposed = "Zoe\u0308 and Jose\u0301 met at the cafe\u0301."
    composed = "Zoë and José met at the café."
    text = f" date 2025-01-01 Cafe\u0301 society\n\n{decomposed}\n\n{composed}\n"
    article = parse(text)

    assert article.title == "Cafe\u0301 society"
    assert [b.text for b in article.blocks] == [decomposed, composed]
    assert unicodedata.is_normalized("NFD", article.blocks[0].text)
    assert unicodedata.is_normalized("NFC", article.blocks[1].text)
    assert article.blocks[0].text != article.blocks[1].text


def test_it_leaves_quotes_and_dashes_alone():
    sentence = (
        "“Double” ‘single’ \"straight\" 'straight' «guillemets» „German“ ‚low‘ — em – en "
        "‐ hyphen ‑ non-breaking ― bar − minus ′prime″ it’s."
    )

    assert blocks_of(f" date 2025-01-01 T\n\n{sentence}\n") == [(BlockKind.PARAGRAPH, sentence)]


def test_it_stores_a_photo_credit_whole():
    text = (
        " date 2025-01-01 T\n\nPhoto: commons.wikimedia.org by Jane Doe,\n"
        "https://creativecommons.org/licenses/by-sa/4.0/   The square, at dusk.\n"
    )

    assert blocks_of(text) == [
        (
            BlockKind.PHOTO_CREDIT,
            "Photo: commons.wikimedia.org by Jane Doe, "
            "https://creativecommons.org/licenses/by-sa/4.0/ The square, at dusk.",
        )
    ]


# --- Headings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("'Not About Helping Children'", True),
        ("Children 'Safe and Under State Care'", True),
        ("Medinsky: Some in Ukraine Exploit the Issue", True),
        ("What the Mayor Said", True),
        ("“Quoted Heading”", True),
        ("[Analysis]", True),
        ("(Updated)", True),
        ("«Le titre»", True),
        ("„Die Überschrift“", True),
        ("The Workers'", True),
        ("2025 in Numbers", True),
        ("What Next?", False),
        ("He said: 'No.'", False),
        ("“Really?”", False),
        ("(Updated.)", False),
        ("[See below.]\u00a0", False),
        ("Wait!", False),
        ("Part one:", False),
        ("Apples, pears,", False),
        ("Then;", False),
        ("And so on…", False),
        ("全文。", False),
        ("* * *", False),
        ("—", False),
        ("x" * 100, True),
        ("x" * 101, False),
    ],
)
def test_it_tells_headings_from_sentences(text, heading):
    assert is_heading(text) is heading


def test_it_never_makes_a_block_of_several_lines_a_heading():
    assert classify_block(["Short", "Lines"]).kind == BlockKind.PARAGRAPH
    assert classify_block(["Short Lines"]).kind == BlockKind.HEADING


def test_it_measures_a_heading_after_collapsing_its_whitespace():
    # 101 characters as written, 100 once the double space is one: a heading.
    line = "x" * 50 + "  " + "y" * 49

    assert classify_block([line]).kind == BlockKind.HEADING
    assert classify_block([line + "z"]).kind == BlockKind.PARAGRAPH


def test_it_makes_a_block_starting_with_photo_a_credit_even_when_short():
    assert classify_block(["Photo: AP"]).kind == BlockKind.PHOTO_CREDIT
    assert classify_block(["Photos of the day"]).kind == BlockKind.HEADING


# --- Refusals of the format ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the file is empty"),
        ("\ufeff", "the file is empty"),
        (" \n\t\n\r\n", "the file holds only white space"),
        ("Council Budget Row\n\nText.\n", "line 1 should be the header ` date YYYY-MM-DD Title`"),
        ("2025-08-08 Council\n\nText.\n", "line 1 should be the header"),
        (" date\n\nText.\n", "line 1 should be the header"),
        (
            " date 08/08/2025 Title\n\nText.\n",
            "the header's date '08/08/2025' is not written as YYYY-MM-DD",
        ),
        (" date 2025-8-8 Title\n\nText.\n", "is not written as YYYY-MM-DD"),
        (" date ２０２５-０８-０８ Title\n\nText.\n", "is not written as YYYY-MM-DD"),
        (" date 2025-02-30 Title\n\nText.\n", "the header's date 2025-02-30 is impossible"),
        (" date 2025-13-01 Title\n\nText.\n", "the header's date 2025-13-01 is impossible"),
        (" date 2025-08-08\n\nText.\n", "the header has no title after the date"),
        (" date 2025-08-08 \t \n\nText.\n", "the header has no title after the date"),
        (" date 2025-08-08 Title\nText.\n", "line 2 should be blank"),
        (" date 2025-08-08 Title\n", "the article has no body: nothing follows the header"),
        (" date 2025-08-08 Title", "the article has no body"),
        (" date 2025-08-08 Title\n\n \n\t\n", "the article has no body"),
        (
            " date 2025-08-08 Title\n\nA bell\x07 rang.\n",
            "the control character U+0007 at line 3, column 7",
        ),
        (" date 2025-08-08 T\n\nIt\x92s\n", "U+0092 at line 3, column 3"),
        (
            " date 2025-08-08 T\n\nNUL\x00\n",
            "this looks like a binary file, not text (it contains NUL bytes)",
        ),
        (" date 2025-08-08 T\n\nA \ud800.\n", "the text holds an unpaired surrogate U+D800"),
        (
            " date 2025-08-08 " + "T" * 501 + "\n\nText.\n",
            "the title is 501 characters long; the limit is 500",
        ),
    ],
)
def test_it_refuses_a_malformed_file_saying_why(text, reason):
    assert reason in rejection(text)


def test_it_suggests_cp1252_for_windows_quotes_read_as_latin1():
    assert "try --encoding cp1252" in rejection(" date 2025-08-08 T\n\nIt\x92s\n")


def test_it_quotes_the_line_that_should_have_been_the_header():
    assert rejection("# Notes\n\nText.\n") == (
        "line 1 should be the header ` date YYYY-MM-DD Title`; it reads '# Notes'"
    )
