"""Seed-file text for the importer's tests, and parsing it without a file."""

from newsroom.seedformat import parse_article

PLAIN = (
    " date 2025-08-08 Council Budget Row\n"
    "\n"
    "The council said 30% of the budget went to roads.\n"
    "\n"
    "Photo: example.org by A. Person, https://creativecommons.org/licenses/by/2.0/ A road\n"
    "\n"
    "What the Mayor Said\n"
    "\n"
    "The mayor denied it\n"
    "and said the figure was 12%.\n"
)


def parse(text: str):
    return parse_article(text, source_id="test")
