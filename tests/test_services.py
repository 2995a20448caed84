"""The domain functions of annotations/services/ not covered through the pages and the API."""

import pytest

from annotations.services import AnnotationError, find_tag

from .factories import TagFactory

pytestmark = pytest.mark.django_db


def test_it_finds_a_tag_by_slug_and_names_the_known_ones_when_it_cannot(claim, figure):
    assert find_tag("claim") == claim
    TagFactory(slug="context", label="Context")
    with pytest.raises(AnnotationError) as raised:
        find_tag("opinion")
    assert "There is no tag “opinion”" in raised.value.message
    assert "claim, context, figure" in raised.value.message
    assert raised.value.status == 400


def test_it_ignores_white_space_around_the_slug(claim):
    assert find_tag(" claim\n") == claim


@pytest.mark.parametrize("value", [None, "", "   "])
def test_it_asks_for_a_tag_when_none_is_given(claim, value):
    with pytest.raises(AnnotationError, match="Choose a tag. One of: .*claim") as raised:
        find_tag(value)
    assert raised.value.field == "tag"


def test_it_names_the_part_of_the_request_that_carried_the_tag(claim):
    with pytest.raises(AnnotationError) as raised:
        find_tag("x" * 100, field="body")
    assert raised.value.field == "body"
    assert "x" * 100 not in raised.value.message  # a long value is cut short, not echoed
