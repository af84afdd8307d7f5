"""Screenshots of the dashboard's main pages for the README, taken in Debian's Chromium.

    liveeval demo --port 7318 &                 # or any running server
    python bench/screenshots.py http://127.0.0.1:7318
    python bench/screenshots.py http://127.0.0.1:7318 --out docs/img --project support

Each page of PAGES is opened at 1280 px wide, given time to draw its charts, and saved as
`docs/img/<name>.png` (the visible part; `--full-page` for the whole page). Console errors
are printed, so a broken page does not slip into the README unnoticed. With `--key` the
script logs in first (servers that require keys). `--only routing` takes the Routing
page of docs/routing.md's `support_answer` task, which the demo does not route: point it
at a server with that task and its traffic (tests/browser/test_routing_browser.py's
`seed_routing` writes nine days of it). Needs `playwright` (the Python package
only) and `chromium` on PATH; Playwright's own browser download is never used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import ConsoleMessage, Page, sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
# (file name, path under the server): the pages a newcomer follows an incident through.
PAGES = [
    ("overview", "/ui/overview"),
    ("interactions", "/ui/interactions"),
    ("quality", "/ui/quality"),
    # the demo's last 6 days (from the Acme Card launch) against the 15 before them
    ("drift", "/ui/drift?window_days=6&baseline_days=15"),
    ("alerts", "/ui/alerts"),
    ("review", "/ui/review"),
    ("golden", "/ui/golden"),
    ("experiments", "/ui/experiments?a=v1&b=v2&days=21"),  # the demo's prompt versions
    ("judge", "/ui/judge"),
]
# Taken only when named in --only: pages the demo's data does not fill.
EXTRA_PAGES = [("routing", "/ui/routing/support_answer")]


def shoot(
    page: Page, base: str, path: str, target: Path, project: str | None, full_page: bool
) -> int:
    """Open `path`, wait for the network to settle, save the PNG; the HTTP status."""
    joiner = "&" if "?" in path else "?"
    query = f"{joiner}{urlencode({'project': project})}" if project else ""
    response = page.goto(f"{base}{path}{query}", wait_until="networkidle")
    for _ in range(60):  # the drift page computes its report in the background first
        if page.get_by_text("Computing the drift report").count() == 0:
            break
        page.wait_for_timeout(1000)
        response = page.reload(wait_until="networkidle")
    page.wait_for_timeout(300)  # chart libraries animate after load
    page.screenshot(path=str(target), full_page=full_page)
    return response.status if response is not None else 0


def log_in(page: Page, base: str, key: str) -> None:
    page.goto(f"{base}/ui/login")
    page.fill("input[name=key]", key)
    page.locator("form").first.evaluate("form => form.submit()")
    page.wait_for_load_state("networkidle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="base URL of a running liveeval server")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    parser.add_argument("--project", default=None, help="project to show (default: server's)")
    parser.add_argument("--key", default=os.environ.get("LIVEEVAL_API_KEY"), help="read key")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=860)
    parser.add_argument("--full-page", action="store_true", help="the whole page, not a screen")
    parser.add_argument("--only", nargs="*", help="names of PAGES to take (default: all)")
    args = parser.parse_args()

    executable = os.environ.get("LIVEEVAL_CHROMIUM") or shutil.which("chromium")
    if executable is None:
        sys.exit("no chromium on PATH: apt-get install chromium")
    base = args.url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    failed = False
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(
            viewport={"width": args.width, "height": args.height}, device_scale_factor=1
        )
        page = context.new_page()
        errors: list[str] = []

        def record(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(message.text)

        page.on("console", record)
        page.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
        if args.key:
            log_in(page, base, args.key)
        wanted = set(args.only) if args.only else {name for name, _ in PAGES}
        for name, path in PAGES + EXTRA_PAGES:
            if name not in wanted:
                continue
            errors.clear()
            target = args.out / f"{name}.png"
            status = shoot(page, base, path, target, args.project, args.full_page)
            verdict = "ok" if status == 200 and not errors else "PROBLEM"
            failed |= verdict != "ok"
            print(f"{verdict:8} {status} {path:22} -> {target}")
            for line in errors:
                print(f"         console: {line}")
        browser.close()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
