"""config/middleware.py: bodies refused from their headers before anything reads them, and
the NUL check of form fields only after CSRF and login (SECURITY.md)."""

import io
import json

import pytest
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client, RequestFactory

from config.middleware import refuse_unwanted_bodies

from . import factories

pytestmark = pytest.mark.django_db

URLS = ["/no/such/url/", "/accounts/login/", "/api/articles/council_budget/annotations/"]


class CountingInput(io.BytesIO):
    """A request body that remembers how much of it was read."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def multipart_upload(size: int) -> tuple[bytes, str]:
    boundary = "BoUnDaRy"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"x" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def post_raw(url: str, body: bytes, content_type: str, **extra):
    stream = CountingInput(body)
    response = Client().generic(
        "POST",
        url,
        data=body,
        content_type=content_type,
        **{"wsgi.input": stream, **extra},
    )
    return response, stream


@pytest.fixture
def temp_files(monkeypatch):
    """Every temporary upload file Django starts writing."""
    started = []
    original = TemporaryFileUploadHandler.new_file

    def new_file(self, *args, **kwargs):
        started.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", new_file)
    return started


@pytest.mark.parametrize("url", URLS)
def test_it_refuses_a_file_upload_before_reading_a_byte_of_it(url, temp_files, settings):
    # Bigger than what Django keeps in memory: parsed, it would go to a temporary file.
    body, content_type = multipart_upload(settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1024)

    response, stream = post_raw(url, body, content_type)

    assert response.status_code == 415
    assert stream.bytes_read == 0
    assert temp_files == []
    assert "no file uploads" in response.content.decode()


def test_it_answers_the_api_in_json_and_pages_in_plain_text(settings):
    body, content_type = multipart_upload(10)
    api, _ = post_raw(URLS[2], body, content_type)
    page, _ = post_raw(URLS[1], body, content_type)
    assert api.headers["Content-Type"] == "application/json"
    assert "no file uploads" in json.loads(api.content)["detail"]
    assert page.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("url", URLS)
def test_it_refuses_a_body_announced_over_the_limit_before_reading_it(url, settings):
    body = b"a=" + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response, stream = post_raw(url, body, "application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert stream.bytes_read == 0
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes" in response.content.decode()


def test_it_refuses_a_json_body_over_the_limit_on_the_api_as_json(settings):
    body = json.dumps({"note": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}).encode()
    response, stream = post_raw(URLS[2], body, "application/json")
    assert response.status_code == 413
    assert stream.bytes_read == 0
    assert "larger than the limit" in response.json()["detail"]


def test_it_lets_a_body_within_the_limit_through(client, editor):
    client.force_login(editor)
    response = client.post("/accounts/logout/", {"x": "y" * 1000})
    assert response.status_code == 302


def test_it_refuses_a_chunked_body_without_a_content_length():
    # The test client always sets Content-Length; a server passing a chunked body on does not.
    request = RequestFactory().post("/accounts/login/", data=b"a=1", content_type="text/plain")
    del request.META["CONTENT_LENGTH"]
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"

    response = refuse_unwanted_bodies(lambda request: pytest.fail("the body got through"))(request)

    assert response.status_code == 411
    assert "Content-Length" in response.content.decode()


@pytest.mark.parametrize("length", ["-1", "ten", "١٠"])
def test_it_refuses_a_content_length_that_is_not_a_number(length):
    request = RequestFactory().post("/accounts/login/", data=b"a=1", content_type="text/plain")
    request.META["CONTENT_LENGTH"] = length

    response = refuse_unwanted_bodies(lambda request: pytest.fail("the body got through"))(request)

    assert response.status_code == 400


def test_it_checks_form_fields_for_nul_only_after_login(client, article):
    # Anonymous: the login check answers first, and nothing of the body was parsed for it.
    url = f"/articles/{article.source_id}/annotations/"
    response, stream = post_raw(url, b"tag=cl%00aim", "application/x-www-form-urlencoded")
    assert response.status_code == 302
    assert "/accounts/login/" in response.headers["Location"]
    assert stream.bytes_read == 0


def test_it_checks_form_fields_for_nul_only_after_csrf(editor, article):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    response = strict.post(f"/articles/{article.source_id}/annotations/", {"tag": "cl\x00aim"})
    assert response.status_code == 403  # the CSRF check, not the NUL check, refused it


def test_it_still_refuses_nul_in_a_signed_in_form(client, article):
    client.force_login(factories.EditorFactory())
    response = client.post(f"/articles/{article.source_id}/annotations/", {"note": "a\x00b"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
