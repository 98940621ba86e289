"""Helpers shared by the Fava page tests (Flask test client and browser): the ledgers
they run on, the engine's own run on them, the figures a page must show, a parser for
the pages' ``data-figure`` cells, and a real ``fava --read-only`` on a free port."""

from __future__ import annotations

import datetime
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from beancount import loader

from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules
from zhubaodai.fava import PAGES
from zhubaodai.plugin import parse_config
from zhubaodai.plugin import rules_path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_LEDGER = ROOT / "tests" / "ledgers" / "fava" / "main.beancount"
DEMO_LEDGER = ROOT / "ledger" / "main.beancount"
SHAPES_LEDGER = ROOT / "ledger" / "shapes.beancount"



#: The line that registers the review pages in a ledger's top file.
EXTENSION_LINE = 'custom "fava-extension" "zhubaodai.fava"'


def demo_registers_pages() -> bool:
    return DEMO_LEDGER.exists() and EXTENSION_LINE in DEMO_LEDGER.read_text(encoding="utf-8")


def ledgers() -> list[Path]:
    """The ledgers the pages are tested on: the test ledger and the demo, once it
    registers the pages (tests/test_fava_pages.py fails while it does not)."""
    found = [FIXTURE_LEDGER]
    if demo_registers_pages():
        found.append(DEMO_LEDGER)
    if SHAPES_LEDGER.exists():  # the second demo: the programs of issue #10's shapes
        found.append(SHAPES_LEDGER)
    return found


@dataclass
class EngineRun:
    """The engine's own run on a ledger, independent of Fava (what the pages must show)."""

    entries: list
    options: dict
    analysis: Analysis

    @property
    def last_date(self) -> datetime.date:
        return self.entries[-1].date


def engine_run(ledger: Path) -> EngineRun:
    entries, _, options = loader.load_file(str(ledger))
    config = next(c for name, c in options["plugin"] if name == "zhubaodai.plugin")
    rulebook = load_rules(rules_path(options, parse_config(config)))
    return EngineRun(entries, options, analyse(entries, rulebook))


class FigureParser(HTMLParser):
    """Collects the text of every element with a ``data-figure`` attribute, and links."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.links: list[str] = []
        self._open: list[tuple[str, str | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        if tag in ("br", "img", "input", "meta", "link"):
            return
        self._open.append((tag, found.get("data-figure"), []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, figure, parts = self._open.pop()
            text = "".join(parts)
            if self._open:
                self._open[-1][2].append(text)
            if figure is not None:
                self.figures[figure] = text.strip()
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)


def figures(html: str) -> FigureParser:
    parser = FigureParser()
    parser.feed(html)
    return parser


def expected_figures(run: EngineRun, page: str) -> dict[str, str]:
    """``data-figure`` -> the text a page must show for the whole ledger (no filter),
    computed from the engine's own run."""
    from decimal import Decimal

    from zhubaodai.core.engine import GUARANTEE
    from zhubaodai.core.engine import RISK
    from zhubaodai.core.money import yuan

    a = run.analysis
    end = run.last_date
    found: dict[str, str] = {}
    if page == "Zbd1Pool":
        for code in a.used_programs():  # the page shows the programs the ledger uses
            state = a.programs[code]
            for fund in (GUARANTEE, RISK):
                if f"{fund}_fund" in state.program.accounts:  # SZPS keeps no guarantee fund
                    found[f"{code}.{fund}.closing"] = yuan(state.funds[fund].at(end))
            outstanding = sum(
                (loan.outstanding(end) for loan in a.register.loans.values() if loan.program == code),
                Decimal(0),
            )
            found[f"{code}.outstanding"] = yuan(outstanding)
            # The deposit sub-ledger's section (HKJB): each loan's deposit at the end.
            for loan_id, account in state.deposits.items():
                found[f"deposit.{loan_id}.balance"] = yuan(account.held(end))
                found[f"deposit.{loan_id}.used"] = yuan(account.used)
            for outflow in state.outflows:
                if outflow.loan is not None:
                    found[f"outflow.{outflow.entry.date}.{outflow.loan}.amount"] = yuan(outflow.amount)
    elif page == "Zbd2Loans":
        fees = a.records.fees
        for loan_id in a.register.loans:
            found[f"{loan_id}.fee_due"] = yuan(fees[loan_id].due)
    elif page == "Zbd3Compensations":
        from zhubaodai.checks.waterfall import claim_parts
        from zhubaodai.checks.waterfall import program_parties

        from zhubaodai.checks.waterfall import npl_classified
        from zhubaodai.checks.waterfall import uses_npl

        npl = any(uses_npl(a.rulebook.programs[code]) for code in a.used_programs())
        for claim in a.records.claims.values():
            found[f"{claim.loan.id}.due"] = yuan(claim.due)
            if npl:  # the 不良分类日 column (SZPS claims on an NPL classification)
                event = npl_classified(a.rulebook.programs[claim.loan.program], claim.loan, claim.event.date)
                found[f"{claim.loan.id}.npl_date"] = str(event.date) if event is not None else "—"
            parts = claim_parts(a.records, claim)
            # One column per party of the claim's program (SZPS: 担保机构 too).
            for party in program_parties(a.rulebook.programs[claim.loan.program]):
                found[f"{claim.loan.id}.{party}"] = yuan(parts[party])
    elif page == "Zbd4Recoveries":
        for rec in a.records.recoveries:
            found[f"{rec.loan.id}.net"] = yuan(rec.net)
            for party, amount in rec.parts.items():
                found[f"{rec.loan.id}.{party}"] = yuan(amount)
    elif page == "Zbd5Interest":
        for alloc in a.records.interest:
            key = f"{alloc.program}.{alloc.entry.date}"
            found[f"{key}.jishu_guarantee"] = yuan(alloc.jishu_guarantee)
            found[f"{key}.jishu_risk"] = yuan(alloc.jishu_risk)
            found[f"{key}.expected_guarantee"] = yuan(alloc.expected_guarantee)
    elif page == "Zbd6Compliance":
        found["total"] = str(len(a.findings))
        found["errors"] = str(len(a.errors))
        found["warnings"] = str(len(a.warnings))
    return found


# --------------------------------------------------------------------------------------
# A real `fava --read-only` for the browser tests.


@dataclass(frozen=True)
class FavaServer:
    base: str  # http://127.0.0.1:PORT
    prefix: str  # /<ledger slug>
    ledger: Path

    def url(self, path: str) -> str:
        return f"{self.base}{self.prefix}/{path}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def start_fava(ledger: Path, log: Path, *, read_only: bool = True) -> tuple[subprocess.Popen[bytes], FavaServer]:
    """``fava --read-only`` on a free loopback port, as reviewers run it (writable, as the
    accountant runs it to import, with ``read_only=False``)."""
    port = _free_port()
    fava = Path(sys.executable).parent / "fava"
    command = [str(fava), *(["--read-only"] if read_only else []), "--host", "127.0.0.1", "--port", str(port), str(ledger)]
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(_NoRedirect)
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"fava exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            opener.open(base + "/", timeout=2)
        except urllib.error.HTTPError as exc:
            if exc.code == 302:  # to the ledger's default page: /<slug>/income_statement/
                path = urllib.parse.urlsplit(exc.headers["Location"]).path
                return proc, FavaServer(base, "/" + path.strip("/").split("/")[0], ledger)
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError("fava did not answer within 120 s")
        time.sleep(0.2)
