"""Turning the bytes of a source file into text."""

from __future__ import annotations

import codecs

import charset_normalizer
from bs4.dammit import EncodingDetector


class DecodeError(ValueError):
    """The bytes are not text in any encoding we can recognise."""


def _utf16_without_bom(data: bytes) -> str | None:
    """Recognise UTF-16 without a byte-order mark by where its NUL bytes fall."""
    sample = data[:4096]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    encoding = "utf-16-le" if odd > 3 * even else "utf-16-be" if even > 3 * odd else None
    if encoding:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            return None
    return None


_BINARY_BYTES = bytes(range(0, 9)) + bytes(range(14, 32))


def _looks_binary(sample: bytes) -> bool:
    """True when over a tenth of ``sample`` is control bytes that text never holds."""
    return sum(map(sample.count, _BINARY_BYTES)) > len(sample) // 10


def _detect(data: bytes) -> str:
    """Decode with charset detection. Among near-equal guesses windows-1252, the web's
    usual legacy encoding, is preferred: on Western text the detector often cannot tell
    it from the Baltic or Central European code pages, which garble accented letters."""
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        return data.decode("windows-1252", errors="replace")
    best = matches[0]
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos + 0.1:
            best = match
    return str(best)


def decode(data: bytes, is_html: bool = False) -> str:
    """Decode ``data``, trusting a byte-order mark, then valid UTF-8, then a declared
    charset, then charset detection.

    Valid UTF-8 is tried before the declared charset because pages that declare Latin-1
    but hold UTF-8 are common, while Latin-1 text that happens to be valid UTF-8 is not.
    Raises DecodeError for binary data.
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    text = _utf16_without_bom(data)
    if text is not None:
        return text
    if _looks_binary(data[:8192]):
        raise DecodeError("binary data, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = EncodingDetector.find_declared_encoding(data, is_html=is_html)
    if declared:
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    return _detect(data)
