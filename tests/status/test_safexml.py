"""The XML parser refuses DTDs, entities and oversized documents."""

from __future__ import annotations

import pytest

from bot.status import safexml
from bot.status.errors import FeedFormatError


def test_parses_namespaced_xml() -> None:
    root = safexml.parse_xml(b'<a xmlns="urn:x"><b k="v">t &amp; u</b></a>')
    child = root[0]
    assert root.tag == "{urn:x}a" and child.tag == "{urn:x}b"
    assert child.text == "t & u" and child.get("k") == "v"


@pytest.mark.parametrize(
    "raw",
    [
        b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
        b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>',
        b'<!DOCTYPE a [<!ENTITY % p SYSTEM "http://example.invalid/p">%p;]><a/>',
    ],
)
def test_dtds_are_refused(raw: bytes) -> None:
    with pytest.raises(FeedFormatError, match="DTD"):
        safexml.parse_xml(raw)


def test_oversized_documents_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safexml, "MAX_XML_BYTES", 10)
    with pytest.raises(FeedFormatError, match="larger"):
        safexml.parse_xml(b"<a>0123456789</a>")
