"""Reading a request body under a size limit that holds after decompression."""

from __future__ import annotations

import zlib

from starlette.requests import Request

CHUNK = 64 * 1024


class BodyTooLarge(ValueError):
    pass


class BadEncoding(ValueError):
    pass


class UnsupportedEncoding(ValueError):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The decoded body; gzip and deflate are inflated as they stream, so a bomb stops early."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        inflater = None
    elif encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    else:
        raise UnsupportedEncoding(
            f"unsupported Content-Encoding {encoding!r}: send gzip, deflate or identity"
        )
    declared = request.headers.get("content-length")
    if inflater is None and declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body of {declared} bytes is over the limit of {limit} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        pieces = [chunk] if inflater is None else _inflate(inflater, chunk, limit - size + 1)
        for piece in pieces:
            size += len(piece)
            if size > limit:
                raise BodyTooLarge(
                    f"body is over the limit of {limit} bytes"
                    + (" after decompression" if inflater is not None else "")
                )
            parts.append(piece)
    if inflater is not None:
        try:
            tail = inflater.flush()
        except zlib.error as exc:
            raise BadEncoding(f"body is not valid {encoding}: {exc}") from None
        if not inflater.eof:
            raise BadEncoding(f"body is not valid {encoding}: the stream is truncated")
        size += len(tail)
        if size > limit:
            raise BodyTooLarge(f"body is over the limit of {limit} bytes after decompression")
        parts.append(tail)
    return b"".join(parts)


def _inflate(inflater: zlib._Decompress, chunk: bytes, budget: int) -> list[bytes]:
    """Inflate `chunk`, stopping once more than `budget` bytes came out."""
    out = []
    data = chunk
    try:
        while data and budget > 0:
            piece = inflater.decompress(data, min(budget, CHUNK * 16))
            out.append(piece)
            budget -= len(piece)
            data = inflater.unconsumed_tail
    except zlib.error as exc:
        raise BadEncoding(f"body is not valid compressed data: {exc}") from None
    return out
