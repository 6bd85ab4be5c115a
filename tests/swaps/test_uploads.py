"""Content sniffing: the type comes from the bytes, never from the name."""

import pytest

from swaps.models import MediaKind
from swaps.uploads import JPEG, MKV, MOV, MP4, PNG, SNIFF_BYTES, WEBM, WEBP, sniff
from tests.swaps.conftest import encode_image


@pytest.mark.parametrize("fmt, expected", [("JPEG", JPEG), ("PNG", PNG), ("WEBP", WEBP)])
def test_sniff_images(astronaut, fmt, expected):
    assert sniff(encode_image(astronaut, fmt)[:SNIFF_BYTES]) == expected


@pytest.mark.parametrize("extension, expected",
                         [("mp4", MP4), ("mov", MOV), ("webm", WEBM), ("mkv", MKV)])
def test_sniff_videos(clips, extension, expected):
    found = sniff(clips[extension].read_bytes()[:SNIFF_BYTES])
    assert found == expected
    assert found.kind == MediaKind.VIDEO


@pytest.mark.parametrize("content", [b"", b"hello, this is text, not a photo\n" * 3,
                                     b"GIF89a" + bytes(60), b"%PDF-1.7\n" + bytes(60)])
def test_sniff_refuses_other_content(content):
    assert sniff(content[:SNIFF_BYTES]) is None
