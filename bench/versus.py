"""XBM against its anchor (``bench/anchor.py``) in the same run: the bare ``/healthz``, the SBU read and the order
ingest, each driven by wrk (one thread, 32 connections) on XBM's service and on the anchor in turn, for a few
rounds (XBM first in odd rounds, the anchor first in even ones, so neither always runs on a warmer machine); the
report gives the medians over the rounds and XBM's req/s as a ratio to the anchor's. Also the report's tables of
the SM2 figures and of the clearance pipeline."""

from __future__ import annotations

import json
import statistics
from typing import TYPE_CHECKING

from bench import seed, wrk
from bench.clearance import Clearance
from bench.sm2 import Timing

if TYPE_CHECKING:
    from bench.run import Run

ROUNDS = 5
CONNECTIONS = 32
PREFIX = "anchor_"
#: (figure, XBM's service, its bare /healthz figure)
FIGURES = (
    ("healthz_plans", "plans", None),
    ("healthz_compliance", "compliance", None),
    ("sbu_get", "plans", "healthz_plans"),
    ("order_ingest", "compliance", "healthz_compliance"),
)
#: XBM's req/s over the anchor's: the issue's targets
TARGETS = {"sbu_get": (0.7, "SBU read ≥ 0.7× the anchor"), "order_ingest": (0.5, "ingest ≥ 0.5× the anchor")}


def key(figure: str, side: str, n: int) -> str:
    return f"{PREFIX}{figure}_{side}_r{n}"


async def interleaved(run: Run, org: seed.Org, sbu_ids: list[str], rounds: int = ROUNDS) -> None:
    reader = org.auth("analyst")
    integration = {**org.auth("integration"), "Content-Type": "application/json"}
    sbus = wrk.script("GET", [f"/v1/sbus/{i}" for i in sbu_ids], reader)
    health = wrk.script("GET", ["/healthz"], {})
    for n in range(1, rounds + 1):
        sides = ("xbm", "anchor") if n % 2 else ("anchor", "xbm")
        for figure, service, _ in FIGURES:
            for side in sides:
                if figure == "healthz_compliance" and side == "anchor":
                    continue  # the anchor has one /healthz, measured beside plans'
                if figure == "order_ingest":  # a new order number on every request, in every run
                    body = json.dumps(seed.order(f"V{n}{side[0].upper()}__N__", seed.buyer_id(1)))
                    lua = wrk.script("POST", ["/v1/compliance/orders"], integration, body)
                else:
                    lua = sbus if figure == "sbu_get" else health
                await run.wrk(key(figure, side, n), service if side == "xbm" else "anchor", lua, CONNECTIONS)


def _median(run: Run, figure: str, side: str, what: str) -> float | None:
    if side == "anchor" and figure.startswith("healthz_"):
        figure = "healthz_plans"
    values = []
    for name, f in run.figures.items():
        if name.startswith(f"{PREFIX}{figure}_{side}_r"):
            values.append(f.result.rps if what == "rps" else f.server_ms)
    return statistics.median(values) if values else None


def ratio(run: Run, figure: str) -> float | None:
    xbm, anchor = _median(run, figure, "xbm", "rps"), _median(run, figure, "anchor", "rps")
    return xbm / anchor if xbm is not None and anchor else None


def rounds_run(run: Run) -> int:
    return sum(1 for name in run.figures if name.startswith(f"{PREFIX}healthz_plans_xbm_r"))


def headline(run: Run) -> list[str]:
    if not rounds_run(run):
        return []
    lines = [
        f"### Headline: XBM against the anchor (wrk -t1 -c{CONNECTIONS}, {rounds_run(run)} rounds interleaved, "
        "medians)",
        "",
        "| request | XBM req/s | anchor req/s | XBM ÷ anchor | target | met | XBM server CPU ms/req | anchor server "
        "CPU ms/req | XBM × its bare /healthz | anchor × its bare /healthz |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for figure, service, base in FIGURES:
        m = {(side, what): _median(run, figure, side, what) for side in ("xbm", "anchor") for what in ("rps", "cpu")}
        if m["xbm", "rps"] is None:
            continue
        x, bound = ratio(run, figure), TARGETS.get(figure)
        bare = {}
        for side in ("xbm", "anchor"):
            b = _median(run, base, side, "rps") if base else None
            rps = m[side, "rps"]
            bare[side] = f"{rps / b:.2f}" if b and rps is not None else ""
        label = f"`{figure}` ({service})" if figure.startswith("healthz") else f"`{figure}`"
        lines.append(
            f"| {label} | {m['xbm', 'rps']:.0f} | {_fmt(m['anchor', 'rps'], '.0f')} | {_fmt(x, '.2f')} | "
            f"{f'≥ {bound[0]}' if bound else ''} | {_met(x, bound[0]) if bound else ''} | {_fmt(m['xbm', 'cpu'])} | "
            f"{_fmt(m['anchor', 'cpu'])} | {bare['xbm']} | {bare['anchor']} |"
        )
    lines.append("")
    lines.append(
        "The anchor (`bench/anchor.py`) is the thinnest correct FastAPI service doing the same work — the same "
        "token verified (EdDSA, plans' JWKS), the same SBU row and labels scoped to the organisation with an ETag; "
        "the order parsed and checked, its number locked, stored, its payment and waybill looked up and an "
        "outbox row written in one transaction — with FastAPI, PyJWT, asyncpg and orjson only, one uvicorn "
        "process as each service. Each round's figures are in the table of the anchor comparison below."
    )
    return lines


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "" if value is None else format(value, spec)


def _met(value: float | None, bound: float) -> str:
    return "" if value is None else ("yes" if value >= bound else "NOT YET")


def verdicts(run: Run) -> list[tuple[str, str, bool]]:
    out = []
    for figure, (bound, label) in TARGETS.items():
        value = ratio(run, figure)
        if value is not None:
            xbm, anchor = _median(run, figure, "xbm", "rps"), _median(run, figure, "anchor", "rps")
            shown = f"{value:.2f}× ({xbm:.0f} ÷ {anchor:.0f} req/s, wrk c{CONNECTIONS}, median of {rounds_run(run)})"
            out.append((label, shown, value >= bound))
    return out


def sm2_table(timings: list[Timing]) -> list[str]:
    lines = [
        "### SM2-SM3 signatures (in the bench process, one operation at a time)",
        "",
        "| operation | operations | median ms | p99 ms | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for t in timings:
        target = "" if t.bound_ms is None else f"≤ {t.bound_ms:g} ms"
        met = "" if t.met is None else ("yes" if t.met else "NOT YET")
        lines.append(f"| {t.name} | {t.operations} | {t.median_ms:.3f} | {t.p99_ms:.3f} | {target} | {met} |")
    lines += ["", "Signed: the canonical SignedInfo of a CEB621 as XBM signs it, through `FileSigner.sign` (SM2 "
              "with SM3 over Z ‖ message, r‖s); verified: the same signature with the certificate's public key "
              "through Tongsuo (r‖s converted to DER included). The gmssl rows are the pure-Python fallback XBM "
              "signs with when Tongsuo is missing."]  # fmt: skip
    return lines


def clearance_table(c: Clearance) -> list[str]:
    ordered = sorted(c.latencies_ms) or [float("nan")]
    p50, p99 = statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return [
        "### Clearance pipeline: three signed deliveries → signed customs messages in the outbox (SM2 signing on)",
        "",
        "| orders | senders | cleared | orders/s | compliance CPU ms/order | messages out | deliveries answered in s "
        "| delivery p50 ms | delivery p99 ms | errors | SM2-SM3 in the outbox | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {c.orders} | {c.concurrency} | {c.cleared} | {c.orders_per_second:.1f} | {c.cpu_ms_per_order:.2f} | "
        f"{c.messages} | {c.send_seconds:.1f} of {c.seconds:.1f} | {p50:.1f} | {p99:.1f} | "
        f"{c.errors} {c.error_sample[:120]} | {'yes' if c.sm2_in_outbox else 'NO'} | {c.load:.2f} |",
        "",
        "Each order as its senders deliver it: order, payment and waybill as Standard Webhooks deliveries signed "
        "with their sources' secrets, by closed-loop senders (raw HTTP/1.1); an order is cleared when its "
        "messages (the CEB311 order and the CEB621 inventory list) are out: built, validated, SM2-signed and "
        "written to the outbox by compliance's relay, whose outbox pass runs every second. orders/s: from the "
        "first delivery until the last order is cleared; compliance's CPU over that time, its relay's included, "
        "per order.",
    ]
