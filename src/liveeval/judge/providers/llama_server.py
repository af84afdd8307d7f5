"""`python -m llama_cpp.server`, with llama.cpp's extra weight buffers (AMX, repacking) off.

llama-cpp-python builds for the CPU it is installed on. Where the CPU reports AMX but
the virtual machine does not really provide it (Firecracker, for one), the AMX weight
buffers crash the server on the first prompt longer than one token. The plain CPU path
works everywhere, and a judge model of 135M parameters does not need the speed, so the
local provider runs the same server through this module, which turns those buffers off.
Arguments are llama_cpp.server's own.
"""

from __future__ import annotations

from typing import Any


def main() -> None:
    import llama_cpp.llama_cpp as low_level
    from llama_cpp.server.__main__ import main as serve

    defaults = low_level.llama_model_default_params

    def model_params() -> Any:
        params = defaults()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    low_level.llama_model_default_params = model_params  # type: ignore[assignment]
    serve()


if __name__ == "__main__":
    main()
