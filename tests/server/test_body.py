"""Reading request bodies under a limit that holds after decompression."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.types import Message

from liveeval.server.body import BadEncoding, BodyTooLarge, UnsupportedEncoding, read_body

CHUNK = 64 * 1024


class Upload:
    """An ASGI request whose body arrives chunk by chunk; counts the chunks read."""

    def __init__(self, chunks: Iterator[bytes], headers: dict[str, str]) -> None:
        self.chunks = chunks
        self.read = 0
        self.request = Request(
            {
                "type": "http",
                "method": "POST",
                "path": "/v1/traces",
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            },
            self.receive,
        )

    async def receive(self) -> Message:
        chunk = next(self.chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}


def gzip_bomb(chunks: int) -> Iterator[bytes]:
    """A gzip stream of `chunks` x 64 MiB of zeros, compressed only as it is read."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (64 * 1024 * 1024)
    for _ in range(chunks):
        piece = compressor.compress(zeros)
        if piece:
            yield piece
    yield compressor.flush()


@pytest.mark.anyio
async def test_a_gzip_bomb_is_refused_before_the_rest_of_it_is_read() -> None:
    upload = Upload(gzip_bomb(chunks=64), {"content-encoding": "gzip"})  # 4 GiB inflated
    with pytest.raises(BodyTooLarge, match="after decompression"):
        await read_body(upload.request, limit=1024 * 1024)
    assert upload.read < 8


@pytest.mark.anyio
async def test_a_plain_body_over_the_limit_is_refused_as_it_streams() -> None:
    upload = Upload(iter([b"x" * CHUNK] * 100), {})
    with pytest.raises(BodyTooLarge):
        await read_body(upload.request, limit=3 * CHUNK)
    assert upload.read == 4


@pytest.mark.anyio
async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    upload = Upload(iter([b"x" * 10]), {"content-length": "5000"})
    with pytest.raises(BodyTooLarge, match="5000 bytes"):
        await read_body(upload.request, limit=4096)
    assert upload.read == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("identity", bytes),
        ("", bytes),
    ],
)
async def test_supported_encodings_give_back_the_original_body(encoding, compress) -> None:  # type: ignore[no-untyped-def]
    original = b"hello otlp " * 10_000
    data = compress(original)
    pieces = iter([data[i : i + 1000] for i in range(0, len(data), 1000)])
    upload = Upload(pieces, {"content-encoding": encoding} if encoding else {})
    assert await read_body(upload.request, limit=len(original)) == original


@pytest.mark.anyio
async def test_a_body_exactly_at_the_limit_after_inflating_is_accepted() -> None:
    original = b"a" * 5000
    upload = Upload(iter([gzip.compress(original)]), {"content-encoding": "gzip"})
    assert await read_body(upload.request, limit=5000) == original
    upload = Upload(iter([gzip.compress(original)]), {"content-encoding": "gzip"})
    with pytest.raises(BodyTooLarge):
        await read_body(upload.request, limit=4999)


@pytest.mark.anyio
async def test_a_truncated_gzip_stream_is_a_bad_encoding() -> None:
    upload = Upload(iter([gzip.compress(b"x" * 1000)[:-10]]), {"content-encoding": "gzip"})
    with pytest.raises(BadEncoding, match="truncated"):
        await read_body(upload.request, limit=10_000)


@pytest.mark.anyio
async def test_an_unknown_encoding_is_unsupported() -> None:
    upload = Upload(iter([b"x"]), {"content-encoding": "zstd"})
    with pytest.raises(UnsupportedEncoding, match="'zstd'"):
        await read_body(upload.request, limit=10)


@pytest.mark.anyio
async def test_one_small_compressed_chunk_is_not_inflated_past_the_limit() -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # ~64 KiB
    upload = Upload(iter([bomb]), {"content-encoding": "gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge):
            await read_body(upload.request, limit=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # the 64 MiB it would inflate to never existed
