"""Reading seed files: decoding (encodings, a BOM, what never belongs in text) and the
checks on a file before it is read (size, type, links). No database here.
"""

import os
from pathlib import Path

import pytest

from newsroom.importer import read_article
from newsroom.seedformat import ImportRejected, check_encoding, decode

from .seed_texts import PLAIN, parse

# --- Decoding --------------------------------------------------------------------------------


def test_it_names_the_byte_offset_of_invalid_utf8():
    data = " date 2025-01-01 Café\n\nThe café’s menu.\n".encode() + b"Caf\xe9 au lait.\n"

    with pytest.raises(ImportRejected) as error:
        decode(data, "utf-8")

    offset = data.index(b"\xe9 au")
    assert error.value.reason == (
        f"this is not valid utf-8 text: the byte 0xE9 at byte offset {offset} (line 4) cannot "
        "be decoded (invalid continuation byte); for a legacy Windows file try --encoding cp1252"
    )


def test_it_decodes_cp1252_when_asked():
    data = " date 2025-01-01 Caf\xe9 \x93prices\x94\n\nUp 5\x80 \x96 a lot.\n".encode("latin-1")

    article = parse(decode(data, "cp1252"))

    assert article.title == "Café “prices”"
    assert article.blocks[0].text == "Up 5€ – a lot."


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "this is a PNG image, not a text file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "this is a PDF document, not a text file"),
        (b"PK\x03\x04\x14\x00", "this is a ZIP archive (a .docx or .odt document is one)"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "this looks like a binary file, not text"),
        (
            " date 2025-01-01 T\n\nText\n".encode("utf-16"),
            "this file is UTF-16 text: save it as UTF-8, or pass --encoding utf-16",
        ),
    ],
)
def test_it_recognises_a_binary_file(data, reason):
    with pytest.raises(ImportRejected) as error:
        parse(decode(data, "utf-8"))

    assert reason in error.value.reason


def test_it_reads_utf16_when_asked():
    data = " date 2025-01-01 Title\n\nText.\n".encode("utf-16")

    assert parse(decode(data, "utf-16")).blocks[0].text == "Text."


@pytest.mark.parametrize("name", ["utf-8", "UTF8", "cp1252", "latin-1", "utf-16", "mac_roman"])
def test_it_accepts_any_text_encoding_name(name):
    assert check_encoding(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("klingon", "Unknown text encoding 'klingon'"),
        ("", "Unknown text encoding ''"),
        ("base64", "'base64' is not a text encoding"),
        ("rot13", "'rot13' is not a text encoding"),
    ],
)
def test_it_refuses_an_unknown_or_non_text_encoding(name, message):
    with pytest.raises(LookupError) as error:
        check_encoding(name)

    assert message in str(error.value)


# --- Reading files ---------------------------------------------------------------------------


def test_it_names_the_file_in_every_refusal(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_text(" date 2025-02-30 Title\n\nText.\n")

    with pytest.raises(ImportRejected) as error:
        read_article(path)

    assert (
        str(error.value)
        == f"{path}: the header's date 2025-02-30 is impossible (day is out of range for month)"
    )


def test_it_uses_the_file_name_without_txt_as_source_id(tmp_path):
    path = tmp_path / "2025-08-08 council budget.txt"
    path.write_text(PLAIN)

    assert read_article(path).source_id == "2025-08-08 council budget"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("notes.md", "only .txt files are imported"),
        ("article.TXT", "only .txt files are imported"),
        (" .txt", "the file name has nothing before .txt"),
        ("x" * 201 + ".txt", "the file name is too long for a source id (201 characters"),
        ("tab\there.txt", "the file name contains control characters"),
    ],
)
def test_it_refuses_a_file_name_that_makes_no_source_id(tmp_path, name, reason):
    path = tmp_path / name
    path.write_text(PLAIN)

    with pytest.raises(ImportRejected) as error:
        read_article(path)

    assert reason in error.value.reason


def test_it_refuses_a_file_name_that_is_not_utf8(tmp_path):
    path = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.txt"))
    path.write_text(PLAIN)

    with pytest.raises(ImportRejected) as error:
        read_article(path)

    assert error.value.reason == "the file name is not valid UTF-8; rename the file"
    assert str(error.value).endswith(
        "caf\\xe9.txt: the file name is not valid UTF-8; rename the file"
    )


def test_it_refuses_a_file_over_the_size_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text(PLAIN)
    size = path.stat().st_size

    assert read_article(path, max_bytes=size).title == "Council Budget Row"
    with pytest.raises(ImportRejected) as error:
        read_article(path, max_bytes=size - 1)

    assert error.value.reason.startswith(
        f"the file is {size:,} bytes; the limit is {size - 1:,} bytes "
        "(settings.IMPORT_MAX_FILE_BYTES"
    )


def test_it_refuses_to_read_through_a_symbolic_link(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text(PLAIN)
    link = tmp_path / "link.txt"
    link.symlink_to(target)

    with pytest.raises(ImportRejected) as error:
        read_article(link)

    assert (
        error.value.reason
        == "this is a symbolic link; links are never followed: name the real file"
    )


def test_it_refuses_a_fifo_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)

    with pytest.raises(ImportRejected) as error:
        read_article(fifo)

    assert error.value.reason == "this is not a regular file (a device, FIFO or socket)"


def test_it_refuses_a_file_outside_the_folder_it_was_listed_from(tmp_path):
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    (outside / "a.txt").write_text(PLAIN)

    with pytest.raises(ImportRejected) as error:
        read_article(inside / ".." / "outside" / "a.txt", folder=inside.resolve())

    assert error.value.reason == f"the file lies outside the folder {inside.resolve()}"


def test_it_reads_a_bom_crlf_file_from_disk_like_the_plain_one(tmp_path):
    plain, windows = tmp_path / "plain.txt", tmp_path / "windows.txt"
    plain.write_bytes(PLAIN.encode())
    windows.write_bytes(b"\xef\xbb\xbf" + PLAIN.replace("\n", "\r\n").encode())

    assert read_article(windows).blocks == read_article(plain).blocks
    assert read_article(windows).content_hash == read_article(plain).content_hash
