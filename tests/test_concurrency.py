"""Many clients at once: parallel scripts against a real multi-process server.

Editors annotating one article together, an article re-imported while they annotate, changes
and deletes racing each other, two Undo clicks at once: nothing is lost, nothing deleted comes
back, and no annotation ends up disagreeing with its article's body. The server is gunicorn
with four worker processes (tests/appserver.py) on the test database, so on PostgreSQL the row
locks are real, and on SQLite the settings that let one file hold a desk of editors (WAL, a
busy timeout, transactions that take the write lock first) are what is tested. On PostgreSQL,
two servers on one database also stand for several app servers behind a proxy.
"""

import json
import random
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections

from annotations.models import AnchorStatus, Annotation, ApiToken, deleted_annotation_records
from annotations.services import AnnotationError, restore_deleted_annotation
from newsroom.models import Article, ArticleRevision

from .appserver import Visitor, database_url, give_password, gunicorn
from .factories import AnnotationFactory, ArticleFactory, EditorFactory, tag

pytestmark = pytest.mark.concurrency

CLIENTS = 8


class Api:
    """A script's view of the API: bearer token, JSON in and out, status codes kept."""

    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url, token

    def call(self, method: str, path: str, payload=None) -> tuple[int, dict | None]:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        return status, json.loads(body) if body else None


def api_for(server, user) -> Api:
    return Api(server.url, ApiToken.issue(user=user, name="concurrency")[1])


def annotation_payload(source: str, body: str, quote: str, *, start: int, note: str) -> dict:
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "body": [
            {"type": "TextualBody", "purpose": "tagging", "value": "claim"},
            {"type": "TextualBody", "purpose": "commenting", "value": note},
        ],
        "target": {
            "source": source,
            "selector": [
                {"type": "TextQuoteSelector", "exact": quote},
                {"type": "TextPositionSelector", "start": start, "end": start + len(quote)},
            ],
        },
    }


def in_parallel(work, jobs, *, clients: int = CLIENTS) -> list:
    """Run work(job) for every job on `clients` threads at once; results in the jobs' order."""
    go = threading.Event()

    def run(job):
        go.wait()  # the first wave starts together, so the requests really overlap
        try:
            return work(job)
        finally:
            connections.close_all()  # this thread's own database connections

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        go.set()
        return [future.result() for future in futures]


def assert_consistent_with_bodies() -> None:
    """Every anchored annotation's quote is exactly its article's text at its offsets."""
    for annotation in Annotation.objects.select_related("article"):
        if annotation.status == AnchorStatus.ANCHORED:
            body = annotation.article.body
            assert body[annotation.start : annotation.end] == annotation.quote, annotation.pk


@pytest.fixture
def tags(transactional_db):
    for slug in ("claim", "rebuttal", "figure"):
        tag(slug)  # a transactional test flushes the migration's tags


@pytest.fixture
def start_server(transactional_db, tmp_path):
    """Starts gunicorn servers on the test database (a file on SQLite: see tests/conftest.py)."""
    started = []

    def start(workers: int = 4):
        log = tmp_path / f"gunicorn-{len(started)}.log"
        started.append(gunicorn(database_url(connection.settings_dict), log, workers=workers))
        return started[-1]

    yield start
    for app in started:
        app.stop()  # before the database is emptied: their workers hold connections
    for app in started:
        assert "Traceback" not in app.log, app.log  # no 500, no crash


@pytest.fixture(scope="module")
def running_server(django_db_setup, tmp_path_factory):
    """One gunicorn with four workers for the module, started once (booting takes seconds)."""
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    app = gunicorn(database_url(connection.settings_dict), log)
    yield app
    app.stop()


@pytest.fixture
def server(running_server, transactional_db):
    """The module's server; the test fails if the server logged a crash (a 500) meanwhile."""
    seen = len(running_server.log)
    yield running_server
    assert "Traceback" not in running_server.log[seen:], running_server.log[seen:]


def test_eight_editors_annotating_one_article_lose_nothing(server, tags):
    article = ArticleFactory(source_id="together")
    editors = [EditorFactory(username=f"desk{n}") for n in range(CLIENTS)]
    apis = [api_for(server, editor) for editor in editors]
    source = apis[0].call("GET", "/api/articles/together/")[1]["url"]
    words = [(m, article.body.index(m)) for m in ("roads", "budget", "The mayor denied it")]
    per_client = 50

    def annotate(n: int) -> list[int]:
        statuses = []
        for i in range(per_client):
            quote, start = words[(n + i) % len(words)]
            payload = annotation_payload(
                source, article.body, quote, start=start, note=f"desk {n} #{i}"
            )
            statuses.append(apis[n].call("POST", "/api/articles/together/annotations/", payload)[0])
        return statuses

    statuses = Counter(s for result in in_parallel(annotate, range(CLIENTS)) for s in result)

    assert statuses == {201: CLIENTS * per_client}
    assert Annotation.objects.count() == CLIENTS * per_client
    notes = set(Annotation.objects.values_list("note", flat=True))
    assert notes == {f"desk {n} #{i}" for n in range(CLIENTS) for i in range(per_client)}
    for editor in editors:
        assert Annotation.objects.filter(author=editor).count() == per_client
    assert_consistent_with_bodies()


STEADY = [
    "The council approved the budget on Tuesday after a long night of talks.",
    "Officials said roads and schools would get most of the money next year.",
    "The opposition called the figures optimistic and asked for an audit.",
]


def seed_text(round_number: int) -> str:
    """The article as its seed file reads after `round_number` corrections near the top."""
    inserted = [
        f"Correction {r}: an earlier version misspelled a name." for r in range(1, 1 + round_number)
    ]
    paragraphs = [*reversed(inserted), *STEADY]
    return "date 2025-08-08 Council budget passes\n\n" + "\n\n".join(paragraphs) + "\n"


def test_reimporting_an_article_while_editors_annotate_loses_nothing(server, tags, tmp_path: Path):
    seed = tmp_path / "budget_row.txt"
    seed.write_text(seed_text(0), encoding="utf-8")
    call_command("import_articles", str(seed), verbosity=0)
    editors = [EditorFactory(username=f"desk{n}") for n in range(CLIENTS)]
    apis = [api_for(server, editor) for editor in editors]
    source = apis[0].call("GET", "/api/articles/budget_row/")[1]["url"]
    rounds, per_client = 8, 25
    reimports_done = threading.Event()

    def annotate(n: int) -> list[int]:
        """Annotate from the body as last fetched: a re-import in between makes it stale."""
        rng, statuses = random.Random(n), []
        body = apis[n].call("GET", "/api/articles/budget_row/")[1]["body"]
        for i in range(per_client):
            sentence = rng.choice(STEADY)
            quote = sentence.split(" ", 3)[3][:30]  # some words inside the sentence
            payload = annotation_payload(
                source, body, quote, start=body.index(quote), note=f"desk {n} #{i}"
            )
            status, answer = apis[n].call("POST", "/api/articles/budget_row/annotations/", payload)
            statuses.append(status)
            if status == 409:  # the text changed under us: read it again, as the page does
                assert "no longer matches" in answer["detail"]
                body = apis[n].call("GET", "/api/articles/budget_row/")[1]["body"]
        return statuses

    def reimport(_) -> list[int]:
        for r in range(1, rounds + 1):
            seed.write_text(seed_text(r), encoding="utf-8")
            call_command("import_articles", str(seed), verbosity=0)
        reimports_done.set()
        return []

    results = in_parallel(
        lambda job: reimport(job) if job == "reimport" else annotate(job),
        ["reimport", *range(CLIENTS)],
        clients=CLIENTS + 1,
    )
    statuses = Counter(s for result in results for s in result)

    assert reimports_done.is_set()
    assert set(statuses) <= {201, 409}, statuses
    assert Annotation.objects.count() == statuses[201]  # every 201 is still there
    article = Article.objects.get(source_id="budget_row")
    assert article.body.startswith(f"Correction {rounds}:")
    assert ArticleRevision.objects.filter(article=article).count() == rounds
    # Only insertions above the quotes: every annotation was moved, none lost its passage.
    assert set(Annotation.objects.values_list("status", flat=True)) == {AnchorStatus.ANCHORED}
    assert_consistent_with_bodies()


def test_changes_and_deletes_racing_each_other_never_resurrect_or_fail(server, tags):
    author = EditorFactory(username="author")
    article = ArticleFactory(source_id="racing")
    quotes = ["roads", "budget", "The mayor denied it"]
    annotations = [
        AnnotationFactory(article=article, author=author, quote=quotes[i % 3]) for i in range(48)
    ]
    api = api_for(server, author)
    source = api.call("GET", "/api/articles/racing/")[1]["url"]
    doomed = {a.pk for a in annotations[::2]}
    jobs = [("DELETE", pk, None) for pk in doomed]
    for a in annotations:
        for n in range(3):
            jobs.append(
                (
                    "PATCH",
                    a.pk,
                    {"body": [{"type": "TextualBody", "purpose": "commenting", "value": f"v{n}"}]},
                )
            )
        quote = quotes[(quotes.index(a.quote) + 1) % 3]
        moved = annotation_payload(
            source, article.body, quote, start=article.body.index(quote), note="moved"
        )
        jobs.append(("PATCH", a.pk, {"target": moved["target"]}))
    random.Random(6).shuffle(jobs)

    def send(job):
        method, pk, payload = job
        return method, pk, payload, api.call(method, f"/api/annotations/{pk}/", payload)[0]

    outcomes = in_parallel(send, jobs)

    assert {status for *_, status in outcomes} <= {200, 204, 404, 409}, Counter(
        status for *_, status in outcomes
    )
    deleted = {pk for method, pk, _, status in outcomes if method == "DELETE" and status == 204}
    assert deleted == doomed
    assert (
        set(Annotation.objects.values_list("pk", flat=True)) == {a.pk for a in annotations} - doomed
    )  # nothing deleted came back, nothing else went
    for pk in doomed:
        last = Annotation.history.filter(id=pk).order_by("-history_id").first()
        assert last.history_type == "-", pk
    for annotation in Annotation.objects.all():
        notes = {
            payload["body"][0]["value"]
            for method, pk, payload, status in outcomes
            if pk == annotation.pk and status == 200 and "body" in payload
        }
        assert annotation.note in notes | {""}
    assert_consistent_with_bodies()


def test_two_undo_clicks_at_once_restore_the_annotation_once(tags):
    annotation = AnnotationFactory(quote="budget")
    pk = annotation.pk
    annotation.delete()
    record = deleted_annotation_records().get(id=pk)

    def restore(_):
        try:
            restore_deleted_annotation(record)
        except AnnotationError as error:
            return error.status
        return 200

    outcomes = Counter(in_parallel(restore, range(CLIENTS)))

    assert outcomes == {200: 1, 409: CLIENTS - 1}
    assert Annotation.objects.filter(pk=pk).count() == 1
    assert Annotation.history.filter(id=pk, history_type="+").count() == 2  # made, restored


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="app servers on several machines share a PostgreSQL server, not an SQLite file",
)
def test_two_app_servers_on_one_database_serve_one_newsroom(start_server, tags):
    """Scaling out: what one server writes, the other shows; a login on one holds on the other."""
    one, other = start_server(workers=2), start_server(workers=2)
    editor = EditorFactory(username="desk")
    give_password(editor, "a long editorial passphrase")
    article = ArticleFactory(source_id="shared")
    token = ApiToken.issue(user=editor, name="scale-out")[1]
    api_one, api_other = Api(one.url, token), Api(other.url, token)
    source = api_one.call("GET", "/api/articles/shared/")[1]["url"]
    start = article.body.index("budget")

    status, made = api_one.call(
        "POST",
        "/api/articles/shared/annotations/",
        annotation_payload(source, article.body, "budget", start=start, note="made on one"),
    )
    assert status == 201
    path = urllib.parse.urlsplit(made["id"]).path
    status, seen = api_other.call("GET", path)
    assert status == 200
    assert seen["body"][1]["value"] == "made on one"
    listed = api_other.call("GET", "/api/articles/shared/annotations/")[1]
    assert [item["id"] for item in listed["items"]] == [seen["id"]]

    change = {"body": [{"type": "TextualBody", "purpose": "commenting", "value": "changed"}]}
    assert api_other.call("PATCH", path, change)[0] == 200
    assert api_one.call("GET", path)[1]["body"][1]["value"] == "changed"

    # Signed in through one server, the session (stored in the database) holds on the other.
    visitor = Visitor()
    status, url, _ = visitor.log_in(one.url, "desk", "a long editorial passphrase")
    assert (status, url) == (200, one.url + "/")
    status, url, page = visitor.get(other.url + "/articles/shared/")
    assert (status, url) == (200, other.url + "/articles/shared/")
    assert "changed" in page
