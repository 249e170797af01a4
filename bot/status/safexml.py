"""Parse untrusted XML with the standard library, refusing DTDs and entities (XML bombs, XXE)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.parsers import expat

from bot.status.errors import FeedFormatError

MAX_XML_BYTES = 5_000_000


class _Refused(Exception):
    """Raised from inside expat callbacks; turned into FeedFormatError."""


def parse_xml(data: bytes) -> ET.Element:
    """Parse ``data`` into an ElementTree element; DOCTYPE and entity declarations are refused."""
    if len(data) > MAX_XML_BYTES:
        raise FeedFormatError(f"the feed is larger than {MAX_XML_BYTES} bytes")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: object) -> None:
        raise _Refused()

    def refuse_external(*_: object) -> int:
        raise _Refused()

    def start(name: str, attrs: dict[str, str]) -> None:
        builder.start(_qualified(name), {_qualified(k): v for k, v in attrs.items()})

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse_external
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(_qualified(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
        return builder.close()
    except _Refused as exc:
        raise FeedFormatError("the feed declares a DTD or entities; refused") from exc
    except (expat.ExpatError, AssertionError) as exc:
        raise FeedFormatError(f"the feed is not well-formed XML ({exc})") from exc


def _qualified(name: str) -> str:
    return "{" + name if "}" in name else name
