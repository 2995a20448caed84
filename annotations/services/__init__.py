"""Every change to annotations and to an article's text, in one place.

Views, the JSON API, both admins and the importer call these functions. They check the data
(not the permission: that is the caller's access helper, `annotations/access.py`), run in one
transaction each, and raise `AnnotationError` with a message a person understands. One module
per kind of change: `articles` (new articles, new text), `annotations` (create, change, delete,
restore), `factcheck` (review states, replies, mentions, answers), `reanchoring` (annotations
placed on a changed text), `changes` (the change log and the locks every write takes),
`counts` (the counts the lists and the statistics read, kept with every change).
docs/architecture.md shows where they sit; docs/anchoring.md explains re-anchoring.
"""

from .annotations import (
    check_note,
    check_selection,
    create_annotation,
    delete_annotation,
    delete_annotations,
    find_tag,
    reselect_annotation,
    restore_deleted_annotation,
    save_annotation,
    update_annotation,
)
from .articles import (
    create_article,
    create_articles,
    record_file_hashes,
    replace_article_text,
    save_new_article,
)
from .changes import (
    record_changes,
)
from .counts import (
    Counted,
    count_change,
    rebuild_counts,
    recount_articles,
)
from .errors import (
    AnnotationError,
)
from .factcheck import (
    MENTION,
    REPLY_MAX_LENGTH,
    SOURCE_MAX_LENGTH,
    add_reply,
    check_answer,
    delete_reply,
    edit_reply,
    mark_mentions_read,
    needs_source,
    set_answers,
    set_review,
)
from .reanchoring import (
    reanchor_article,
)

__all__ = [
    "AnnotationError",
    "create_article",
    "create_articles",
    "record_file_hashes",
    "replace_article_text",
    "save_new_article",
    "record_changes",
    "Counted",
    "count_change",
    "rebuild_counts",
    "recount_articles",
    "check_note",
    "check_selection",
    "create_annotation",
    "delete_annotation",
    "delete_annotations",
    "find_tag",
    "reselect_annotation",
    "restore_deleted_annotation",
    "save_annotation",
    "update_annotation",
    "reanchor_article",
    "MENTION",
    "REPLY_MAX_LENGTH",
    "SOURCE_MAX_LENGTH",
    "add_reply",
    "check_answer",
    "delete_reply",
    "edit_reply",
    "mark_mentions_read",
    "needs_source",
    "set_answers",
    "set_review",
]
