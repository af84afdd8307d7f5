"""`python -m liveeval` and the `liveeval` command.

This module stays light: `serve --workers N` starts its workers with multiprocessing's
spawn, which re-imports the parent's main module in each worker, and for the `liveeval`
command that is the script importing `main` from here. Importing the CLI there cost
each worker every command's imports before it could answer uvicorn's health check.
"""

from __future__ import annotations


def main() -> None:
    from liveeval.cli.main import cli

    cli()


if __name__ == "__main__":
    main()
