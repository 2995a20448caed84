"""The refusal every write raises, and the shapes the writes share."""

# One change as the change log records it: (annotation id, kind, old start, old end).
Change = tuple[int | None, str, int | None, int | None]

# Rows per INSERT of a bulk write: under SQLite's limit on the parameters of one statement.
BATCH_SIZE = 500


class AnnotationError(Exception):
    """Input an editor or a client sent that we refuse, with the reason in plain words.

    `status` is the HTTP status the API answers with (400 bad input, 409 conflict with the
    article's current text).
    """

    def __init__(self, message: str, *, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
