"""What the user feels: click-to-settled times of the app in a real browser.

Starts its own ``ossdx app`` on a free port (the shipped knowledge base, or ``--kb``), then
drives Debian's chromium (``/usr/bin/chromium``) with Playwright, headless, at 1,400 x
1,000:

* **cold start**: a fresh server's first page load, from navigation to the first visible
  sign of progress (the page's "Starting ossdx" line, ui/boot.py, or any text or spinner in
  the main pane), to the app's own first output (text or spinner in the main pane: the
  measure of "first progress" before 2026-12-06's boot indicator) and to the moment the
  page stops changing;
* **work-up answers**: at least ``--answers`` clicks on an answer of the question card (the
  seed cases' own values where the question asks for one, else the first answer), over as
  many seed cases as it takes (since 2026-12-06 the untimed set-up of each case waits until
  the pickers' hidden screen-reader log, filled by its own typing, is empty: the log drops
  each message seconds later, and those drops used to land inside the timed answers);
* **answer changes**: changing an answer already given, in the list of answers;
* **page switches**: opening each page from the navigation.

"Settled" is the moment the page stops changing: a ``MutationObserver`` on the whole
document records the time of the last change; a click is settled once the app's script is
no longer running and nothing has changed for ``--quiet`` ms, and its time is that of the
last change after the click. The click itself is dispatched in the page, so the browser's
own clock measures both ends.

    python -m benchmarks.browser [--json] [--answers 24] [--kb DIR]

The last line printed is one JSON object with answer_p50_ms, answer_p95_ms,
change_p50_ms, page_open_p50_ms, page_open_p95_ms, first_progress_ms, first_app_output_ms
and cold_start_ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.appserver import free_port, serving
from ossdx.kb import KnowledgeBase, load_knowledge_base
from ossdx.kb.case import Case
from ossdx.reasoning.cases import read_case_folder

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}

# Installed before any page script: remembers the time of the last change to the document.
OBSERVER = """
window.__ossdxLast = performance.now();
new MutationObserver(() => { window.__ossdxLast = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true,
                      characterData: true});
"""
SETTLED = """([t0, quiet]) => {
  const app = document.querySelector('[data-testid=stApp]');
  const idle = app && app.getAttribute('data-test-script-state') !== 'running';
  const now = performance.now();
  return idle && window.__ossdxLast > t0 && now - window.__ossdxLast >= quiet
    ? window.__ossdxLast - t0 : null;
}"""
CLICK = """(el) => { const t0 = performance.now(); el.click(); return t0; }"""
PROGRESS = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  if (!main) return false;
  const text = (main.innerText || '').trim();
  return (text.length > 0 || !!main.querySelector('[data-testid=stSpinner]'))
    && performance.now();
}"""
# the first visible sign: the boot indicator of ui/boot.py while it is on screen, or PROGRESS
FIRST_SIGN = """() => {
  const boot = document.getElementById('ossdx-boot');
  if (boot && boot.getBoundingClientRect().height > 0) return performance.now();
  return (""" + PROGRESS + """)();
}"""


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


@contextmanager
def app_server(kb_root: Path | None, log: Path) -> Iterator[str]:
    """``ossdx app`` on a free port; yields its URL once healthy, stops it (by PID) after."""
    port = free_port()
    env = dict(os.environ)
    if kb_root is not None:
        env["OSSDX_KB"] = str(kb_root)
    command = [sys.executable, "-c", "import sys; from ossdx.cli import main; sys.exit(main())",
               "app", "--server.port", str(port), "--server.address", "127.0.0.1"]
    with serving(command, port, log, env=env) as url:
        yield url


class Driver:
    """One browser tab on the app, with click-to-settled timing."""

    def __init__(self, page: Any, quiet_ms: float):
        self.page = page
        self.quiet = quiet_ms

    def settle(self, t0: float, timeout_ms: float = 90_000) -> float:
        """Milliseconds from ``t0`` (the page's clock) to the last change before quiet."""
        handle = self.page.wait_for_function(SETTLED, arg=[t0, self.quiet],
                                             timeout=timeout_ms, polling=25)
        return float(handle.json_value())

    def click(self, selector: str) -> float:
        """Click the element (in the page) and return the milliseconds until settled."""
        return self.click_locator(self.page.locator(selector))

    def click_locator(self, locator: Any, *, pointer: bool = False) -> float:
        """Click; ``pointer``: as a mouse does (for widgets that listen to pointer events;
        the time then also holds Playwright's own checks, a few ms)."""
        element = locator.first
        element.wait_for(state="visible")
        if pointer:
            t0 = self.page.evaluate("performance.now()")
            element.click()
        else:
            t0 = element.evaluate(CLICK)
        return self.settle(t0)

    def idle(self) -> None:
        """Wait until the app is idle and the page quiet (not timed)."""
        self.settle(self.page.evaluate("performance.now()") - 1e6)

    def choose(self, key: str, option: str) -> None:
        """Pick ``option`` in the selectbox or multiselect with widget key ``key``."""
        page = self.page
        box = page.locator(f".st-key-{key.replace('.', '-')} [role=combobox]").first
        box.click()
        box.type(option[:20])  # filter: a long list shows only the options in view
        page.get_by_role("option", name=option, exact=True).first.click()
        page.keyboard.press("Escape")
        self.idle()

    def asked(self) -> str | None:
        """The finding of the question on screen, or None when the questions ended."""
        page = self.page
        page.wait_for_selector(".st-key-question [class*='-skip'], .st-key-question_done, "
                               ".st-key-context_step")
        found = page.eval_on_selector_all(
            ".st-key-question [class*='-skip']",
            "els => els.map(e => e.className.match(/st-key-ask-(\\S+)-skip/)).filter(m => m)"
            ".map(m => m[1])")
        return found[0] if found else None


def seed_cases(kb: KnowledgeBase) -> list[Case]:
    folder = kb.root / "cases" / "seed"
    return [e.case for e in read_case_folder(folder, kb) if e.case and e.case.findings]


# The screen-reader log of the pickers ("3 options available" while typing) removes each
# message some seconds later: wait until it is empty, or those removals of the set-up's own
# typing would land inside the timed answers that follow.
ANNOUNCEMENTS_CLEARED = """() => Array.from(document.querySelectorAll('[role=log][aria-live]'))
  .every(log => log.childElementCount === 0)"""


def set_context(driver: Driver, kb: KnowledgeBase, case: Case) -> None:
    """Choose the case's studies and primary tumour (set-up, not timed)."""
    for modality in sorted(case.modalities):
        driver.choose("context.modalities", kb.vocabulary.modalities[modality].name)
    primary = case.patient.get("primary") or "unknown"
    driver.choose("patient.primary", kb.label_of("patient.primary", primary))
    skip = driver.page.locator(".st-key-workup-skip_context button")
    if skip.count():  # other patient fields could matter: go on without them
        skip.first.click()
        driver.idle()
    driver.page.wait_for_function(ANNOUNCEMENTS_CLEARED, polling=100, timeout=30_000)
    driver.idle()


def new_case(driver: Driver, url: str) -> None:
    driver.page.goto(url)  # the work-up is the default page, at the root
    driver.idle()


def work_up(driver: Driver, kb: KnowledgeBase, url: str, cases: Sequence[Case],
            wanted: int) -> tuple[list[float], list[float]]:
    """Answer questions over seed cases until ``wanted`` answers; then change answers."""
    answers: list[float] = []
    changes: list[float] = []
    for case in cases:
        new_case(driver, url)
        set_context(driver, kb, case)
        for _ in range(40):
            finding = driver.asked() if len(answers) < wanted else None
            if finding is None:
                break
            value = case.findings.get(finding)
            target = f".st-key-ask-{finding}-{value} button" if value is not None else \
                f".st-key-question [class*='st-key-ask-{finding}-'] button"
            if kb.findings[finding].type in ("number", "integer"):
                target = f".st-key-ask-{finding}-skip button"  # its +/- steps change nothing
            elif value is not None and not driver.page.locator(target).count():
                target = f".st-key-question [class*='st-key-ask-{finding}-'] button"
            answers.append(driver.click(target))
        answered = [f for f in case.findings
                    if driver.page.locator(f".st-key-answer-{f} [role=combobox]").count()]
        for finding in answered[:4]:  # change answers to another value, timed
            spec = kb.findings[finding]
            if spec.type in ("number", "integer"):
                continue
            page = driver.page
            current = spec.values[case.findings[finding]].label
            page.locator(f".st-key-answer-{finding} [role=combobox]").first.click()
            options = page.get_by_role("option")
            try:
                options.first.wait_for(state="visible", timeout=5_000)
            except Exception:  # the list did not open: not a timed change
                page.keyboard.press("Escape")
                continue
            other = [o for o in options.all() if o.inner_text().strip() != current]
            if other:
                changes.append(driver.click_locator(other[0], pointer=True))
            else:
                page.keyboard.press("Escape")
        if len(answers) >= wanted:
            break
    return answers, changes


PAGES = ["Quick entry", "Examples", "Treatment response", "Knowledge base", "Work-up"]


def page_switches(driver: Driver, rounds: int) -> list[float]:
    """Open each page from the navigation, ``rounds`` times over."""
    times = []
    nav = "[data-testid=stSidebarNav] a"
    for _ in range(rounds):
        for title in PAGES:
            link = driver.page.locator(nav, has_text=title)
            times.append(driver.click_locator(link))
    return times


def cold_start(browser: Any, url: str, quiet: float) -> tuple[float, float, float]:
    """First visible progress, the app's first output and the settled page of a fresh
    server's first load (ms)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(OBSERVER)
    page = context.new_page()
    page.goto(url, wait_until="commit")
    # the page's clock starts at navigation
    first = float(page.wait_for_function(FIRST_SIGN, polling=10, timeout=60_000).json_value())
    output = float(page.wait_for_function(PROGRESS, polling=10, timeout=60_000).json_value())
    driver = Driver(page, quiet)
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    settled_at = driver.settle(0.0, timeout_ms=60_000)
    context.close()
    return first, output, settled_at


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="Click-to-settled times in chromium.")
    parser.add_argument("--json", action="store_true", help="(the JSON line is always last)")
    parser.add_argument("--answers", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of page switches")
    parser.add_argument("--quiet", type=float, default=300.0,
                        help="ms without a change that count as settled")
    parser.add_argument("--kb", type=Path, default=None)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    kb = load_knowledge_base(args.kb)
    cases = seed_cases(kb)
    with tempfile.TemporaryDirectory() as tmp, \
            app_server(args.kb, Path(tmp) / "app.log") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        first_progress, first_output, cold = cold_start(browser, url, args.quiet)
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(OBSERVER)
        context.set_default_timeout(90_000)
        driver = Driver(context.new_page(), args.quiet)
        answers, changes = work_up(driver, kb, url, cases, args.answers)
        pages = page_switches(driver, args.rounds)
        browser.close()

    print(f"ossdx browser benchmark, {date.today()}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, chromium headless {VIEWPORT['width']}x{VIEWPORT['height']}, "
          f"KB {kb.version}; settled = {args.quiet:g} ms without a change")
    print(f"{'what':22} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, values in (("work-up answer", answers), ("answer change", changes),
                         ("page open", pages)):
        if values:
            print(f"{name:22} {len(values):4d} {statistics.median(values):8.0f} "
                  f"{percentile(values, 95):8.0f} {max(values):8.0f}")
    print("work-up answers, in order (ms): " + " ".join(f"{t:.0f}" for t in answers))
    print("page opens, in order (ms): " + " ".join(f"{t:.0f}" for t in pages))
    print(f"{'cold start: progress':22} {'':4} {first_progress:8.0f}")
    print(f"{'cold start: app output':22} {'':4} {first_output:8.0f}")
    print(f"{'cold start: settled':22} {'':4} {cold:8.0f}")
    result = {
        "date": str(date.today()),
        "kb_version": kb.version,
        "answers": len(answers),
        "answer_p50_ms": round(statistics.median(answers), 1),
        "answer_p95_ms": round(percentile(answers, 95), 1),
        "changes": len(changes),
        "change_p50_ms": round(statistics.median(changes), 1) if changes else None,
        "page_opens": len(pages),
        "page_open_p50_ms": round(statistics.median(pages), 1),
        "page_open_p95_ms": round(percentile(pages, 95), 1),
        "first_progress_ms": round(first_progress, 1),
        "first_app_output_ms": round(first_output, 1),
        "cold_start_ms": round(cold, 1),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
