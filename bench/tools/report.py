#!/usr/bin/python3
"""Prints the benchmark's one table (markdown) and the target checks.
    report.py RESULTS.tsv EXTRA.env
RESULTS.tsv: case contender requests_per_s p50_us p99_us peak_rss_kb wrk_errors identical
EXTRA.env:   key=value lines (ingestion, baseline, start-up, machine)."""
import sys

CASES = [
    ("list25", "list, per_page=25, random connection"),
    ("list100", "list, per_page=100, random connection"),
    ("big_first", "list, 200k-run connection, first page (25)"),
    ("big_last", "list, 200k-run connection, last page (25)"),
    ("run", "one run, random id"),
    ("static", "nginx: pre-rendered per_page=25 body"),
]
ORDER = ["syncrun", "node", "python", "nginx"]


def ratio(v, ref):
    return f"{v / ref:.2f}×" if ref else "–"


def main():
    rows = {}
    for line in open(sys.argv[1]):
        f = line.rstrip("\n").split("\t")
        if len(f) < 8:
            continue
        rows[(f[0], f[1])] = dict(rps=float(f[2]), p50=float(f[3]) / 1000, p99=float(f[4]) / 1000,
                                  rss=float(f[5]) / 1024, err=int(f[6]), same=f[7])
    extra = {}
    for line in open(sys.argv[2]):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            extra[k] = v

    out = []
    w = out.append
    w("| case | contender | req/s | ×syncrun | p50 ms | ×syncrun | p99 ms | ×syncrun | peak RSS MB | ×syncrun | note |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for case, label in CASES:
        ref = rows.get((case, "syncrun")) or rows.get(("list25", "syncrun"))
        for who in ORDER:
            r = rows.get((case, who))
            if r is None:
                continue
            note = []
            if r["err"]:
                note.append(f"{r['err']} wrk errors/non-2xx")
            if r["same"] == "no":
                note.append("JSON NOT identical to syncrun")
            if case == "static":
                note.append("ratios vs syncrun list25")
            w(f"| {label} | {who} | {r['rps']:,.0f} | {ratio(r['rps'], ref['rps'])} | {r['p50']:.2f} | "
              f"{ratio(r['p50'], ref['p50'])} | {r['p99']:.2f} | {ratio(r['p99'], ref['p99'])} | {r['rss']:.1f} | "
              f"{ratio(r['rss'], ref['rss'])} | {'; '.join(note)} |")
    ing = float(extra.get("ingest_rate", 0) or 0)
    base = float(extra.get("baseline_rate", 0) or 0)
    w(f"| ingestion: lifecycles/s, 32 clients (POST+PATCH+finish, durable) | syncrun | {ing:,.0f} | "
      f"{ratio(ing, base)} of baseline | {extra.get('ingest_p50_ms', '–')} | | {extra.get('ingest_p99_ms', '–')} | | "
      f"{float(extra.get('ingest_rss_kb', 0)) / 1024:.1f} | | lifecycle latency; client used "
      f"{float(extra.get('ingest_client_cpu', 0)) * 100:.0f}% of a core |")
    w(f"| ingestion baseline: raw SQLite, 1 txn per write, WAL+FULL, 1 process | sqlite3 C loop | {base:,.0f} | | | | | "
      f"| | | |")
    w(f"| start-up until /healthz (median of 5) | syncrun | | | {extra.get('startup_ms', '–')} | | | | "
      f"{float(extra.get('idle_rss_kb', 0)) / 1024:.1f} (idle) | | {extra.get('startup_all', '')} |")
    print("\n".join(out))

    # Targets
    print()
    print("Targets (syncrun):")
    s = lambda c: rows.get((c, "syncrun"))
    checks = []
    for case in ("list25", "list100", "big_first", "big_last"):
        sr, nd, ng = s(case), rows.get((case, "node")), rows.get(("static", "nginx"))
        if sr and nd:
            checks.append((sr["rps"] >= 3 * nd["rps"],
                           f"{case}: req/s ≥ 3× Node's: {sr['rps']:,.0f} vs 3×{nd['rps']:,.0f} "
                           f"(= {sr['rps'] / nd['rps']:.2f}×)"))
            checks.append((sr["p99"] < nd["p50"],
                           f"{case}: p99 below Node's p50: {sr['p99']:.2f} ms vs {nd['p50']:.2f} ms"))
        if sr and ng:
            checks.append((sr["rps"] >= 0.5 * ng["rps"],
                           f"{case}: req/s ≥ 50% of nginx's: {sr['rps']:,.0f} vs {ng['rps']:,.0f} "
                           f"(= {100 * sr['rps'] / ng['rps']:.0f}%)"))
    f, l = s("big_first"), s("big_last")
    if f and l:
        checks.append((f["rps"] <= 1.2 * l["rps"] and l["p50"] <= 1.2 * f["p50"],
                       f"last page within 1.2× of first: req/s first/last = {f['rps'] / l['rps']:.2f}, "
                       f"p50 last/first = {l['p50'] / f['p50']:.2f}"))
    checks.append((ing >= 10000, f"ingestion ≥ 10,000 lifecycles/s durable: {ing:,.0f}"))
    if base:
        checks.append((ing >= 5 * base, f"ingestion ≥ 5× the one-transaction-per-write baseline: "
                                        f"{ing:,.0f} vs 5×{base:,.0f} (= {ing / base:.2f}×)"))
    rss = float(extra.get("idle_rss_kb", 0)) / 1024
    checks.append((rss < 20, f"idle RSS < 20 MB: {rss:.1f} MB"))
    st = float(extra.get("startup_ms", 0) or 0)
    checks.append((st < 100, f"start-up < 100 ms: {st:.1f} ms"))
    for ok, text in checks:
        print(f"- {'met   ' if ok else 'MISSED'} {text}")
    if extra.get("quick") == "1":
        print("(--quick: small data set and short loads; the targets are meant for the full run)")


if __name__ == "__main__":
    main()
