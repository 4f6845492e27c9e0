#!/usr/bin/python3
"""Prints the benchmark's one table (markdown) and the target checks.
    report.py RESULTS.tsv EXTRA.env
RESULTS.tsv: case contender requests_per_s p50_us p99_us peak_rss_kb peak_anon_kb peak_file_kb wrk_errors
             identical note
EXTRA.env:   key=value lines (ingestion, triggers, reads during ingestion, baseline, start-up, machine)."""
import sys

CASES = [
    ("list25", "Census list, per_page=25, random connection"),
    ("list100", "Census list, per_page=100, random connection"),
    ("big_first", "Census list, 200k-run connection, first page (25)"),
    ("big_last", "Census list, 200k-run connection, last page (25)"),
    ("run", "Census one run, random id"),
    ("braze_first", "Braze job_sync_status, random integration, first page (10)"),
    ("braze_cursor", "Braze job_sync_status, 200k-run integration, cursor page in the middle (10)"),
    ("blueconic", "BlueConic runs, random connection with jobs, count=25"),
    ("itwin_min", "iTwin runs, random connection, return=minimal ($top=100)"),
    ("itwin_rep", "iTwin runs, random connection with jobs and tasks, return=representation ($top=25)"),
    ("reads_alone", "reads alone: Census per_page=25, wrk -t1 -c8, on the ingestion server"),
    ("reads_mixed", "the same reads while 32 clients ingest (writer saturated)"),
]
ORDER = ["syncrun", "node", "node-keyset", "python", "nginx"]
LABEL = {"node": "node (offset)", "node-keyset": "node (keyset)"}
DIALECTS = ["braze_first", "braze_cursor", "blueconic", "itwin_min", "itwin_rep"]


def ratio(v, ref):
    return f"{v / ref:.2f}×" if ref else "–"


def main():
    rows = {}
    for line in open(sys.argv[1]):
        f = line.rstrip("\n").split("\t")
        if len(f) < 10:
            continue
        rows[(f[0], f[1])] = dict(rps=float(f[2]), p50=float(f[3]) / 1000, p99=float(f[4]) / 1000,
                                  rss=float(f[5]) / 1024, anon=float(f[6]) / 1024, file=float(f[7]) / 1024,
                                  err=int(f[8]), same=f[9], note=f[10] if len(f) > 10 else "")
    extra = {}
    for line in open(sys.argv[2]):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            extra[k] = v
    num = lambda k: float(extra.get(k, 0) or 0)

    out = []
    w = out.append
    w("| case | contender | req/s | ×syncrun | p50 ms | ×syncrun | p99 ms | ×syncrun | peak RSS MB | ×syncrun "
      "| anon / file MB | note |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for case, label in CASES:
        ref = rows.get((case, "syncrun"))
        if case == "reads_mixed":  # its ratios: against the same reads without writes
            ref = rows.get(("reads_alone", "syncrun")) or ref
        for who in ORDER:
            r = rows.get((case, who))
            if r is None or ref is None:
                continue
            note = [r["note"]] if r["note"] else []
            if who == "nginx":
                note.insert(0, "syncrun's own answer of this case, static")
            if case == "reads_mixed":
                note.append(f"ratios vs the reads alone; ingestion meanwhile {num('mixed_ingest_rate'):,.0f} "
                            f"lifecycles/s")
            if r["err"]:
                note.append(f"{r['err']} wrk errors/non-2xx")
            if r["same"] == "no":
                note.append("JSON NOT identical to syncrun")
            w(f"| {label} | {LABEL.get(who, who)} | {r['rps']:,.0f} | {ratio(r['rps'], ref['rps'])} | "
              f"{r['p50']:.2f} | {ratio(r['p50'], ref['p50'])} | {r['p99']:.2f} | {ratio(r['p99'], ref['p99'])} | "
              f"{r['rss']:.1f} | {ratio(r['rss'], ref['rss'])} | {r['anon']:.1f} / {r['file']:.1f} | "
              f"{'; '.join(note)} |")
    ing, base = num("ingest_rate"), num("baseline_rate")
    w(f"| ingestion: lifecycles/s, 32 clients (POST+PATCH+finish, durable) | syncrun | {ing:,.0f} | "
      f"{ratio(ing, base)} of baseline | {extra.get('ingest_p50_ms', '–')} | | {extra.get('ingest_p99_ms', '–')} | | "
      f"{num('ingest_rss_kb') / 1024:.1f} | | {num('ingest_anon_kb') / 1024:.1f} / {num('ingest_file_kb') / 1024:.1f} "
      f"| lifecycle latency; client used {num('ingest_client_cpu') * 100:.0f}% of a core |")
    for kind, route in (("census", "POST /api/v1/syncs/{id}/trigger"), ("braze", "POST /cdi/integrations/{uuid}/sync"),
                        ("itwin", "POST …/manifestconnections/{uuid}/runs")):
        rate = num(f"trigger_{kind}_rate")
        extra_step = " + GET the run's id (Braze answers no id)" if kind == "braze" else ""
        w(f"| trigger route: {route} → finish, cycles/s, 32 clients (durable) | syncrun | {rate:,.0f} | "
          f"{ratio(rate, base)} of baseline | {extra.get(f'trigger_{kind}_p50_ms', '–')} | | "
          f"{extra.get(f'trigger_{kind}_p99_ms', '–')} | | | | | cycle latency: trigger{extra_step} + native finish |")
    w(f"| ingestion baseline: raw SQLite, 1 txn per write, WAL+FULL, 1 process | sqlite3 C loop | {base:,.0f} | | | | | "
      f"| | | | |")
    w(f"| start-up until /healthz (median of 5) | syncrun | | | {extra.get('startup_ms', '–')} | | | | "
      f"{num('idle_rss_kb') / 1024:.1f} (idle) | | {num('idle_anon_kb') / 1024:.1f} / {num('idle_file_kb') / 1024:.1f} "
      f"| {extra.get('startup_all', '')} |")
    print("\n".join(out))

    # Targets: issue 14's, then the first round's.
    print()
    print("Targets (syncrun; ratios within this run):")
    s = lambda c: rows.get((c, "syncrun"))
    checks = []
    checks.append((ing >= 10000, f"ingestion ≥ 10,000 lifecycles/s durable: {ing:,.0f}"))
    if base:
        checks.append((ing >= 5 * base, f"ingestion ≥ 5× the one-transaction-per-write baseline: "
                                        f"{ing:,.0f} vs 5×{base:,.0f} (= {ing / base:.2f}×)"))
    for case, share in (("list25", 0.5), ("list100", 0.3), ("run", 0.8)):
        sr, ng = s(case), rows.get((case, "nginx"))
        if sr and ng:
            checks.append((sr["rps"] >= share * ng["rps"],
                           f"{case}: ≥ {share:.0%} of nginx serving the same-size body: {sr['rps']:,.0f} vs "
                           f"{ng['rps']:,.0f} (= {sr['rps'] / ng['rps']:.0%})"))
    for case in DIALECTS:
        sr, nk = s(case), rows.get((case, "node-keyset"))
        if sr and nk:
            checks.append((sr["rps"] >= 3 * nk["rps"],
                           f"{case}: ≥ 3× the keyset Node peer: {sr['rps']:,.0f} vs {nk['rps']:,.0f} "
                           f"(= {sr['rps'] / nk['rps']:.2f}×)"))
    alone, mixed = s("reads_alone"), s("reads_mixed")
    if alone and mixed:
        checks.append((mixed["p99"] < 3 * alone["p99"],
                       f"reads during saturated ingestion: p99 under 3× without writes: {mixed['p99']:.2f} ms vs "
                       f"{alone['p99']:.2f} ms (= {mixed['p99'] / alone['p99']:.2f}×; ingestion meanwhile "
                       f"{num('mixed_ingest_rate'):,.0f} lifecycles/s)"))
    reads = [c for c, _ in CASES if c not in ("reads_alone", "reads_mixed") and s(c)]
    if reads:
        worst = max(reads, key=lambda c: s(c)["anon"])
        checks.append((s(worst)["anon"] < 64, f"anonymous RSS under read load < 64 MB: peak {s(worst)['anon']:.1f} MB "
                                              f"({worst}; file-backed {s(worst)['file']:.1f} MB)"))
    rss = num("idle_rss_kb") / 1024
    checks.append((rss < 20, f"idle RSS < 20 MB: {rss:.1f} MB"))
    st = num("startup_ms")
    checks.append((st < 100, f"start-up < 100 ms: {st:.1f} ms"))
    print("Issue 14:")
    for ok, text in checks:
        print(f"- {'met   ' if ok else 'MISSED'} {text}")

    checks = []
    for case in ("list25", "list100", "big_first", "big_last"):
        sr, nd, ng = s(case), rows.get((case, "node")), rows.get((case, "nginx"))
        if sr and nd:
            checks.append((sr["rps"] >= 3 * nd["rps"],
                           f"{case}: req/s ≥ 3× Node's (offset): {sr['rps']:,.0f} vs 3×{nd['rps']:,.0f} "
                           f"(= {sr['rps'] / nd['rps']:.2f}×)"))
            checks.append((sr["p99"] < nd["p50"],
                           f"{case}: p99 below Node's (offset) p50: {sr['p99']:.2f} ms vs {nd['p50']:.2f} ms"))
        if sr and ng:
            checks.append((sr["rps"] >= 0.5 * ng["rps"],
                           f"{case}: req/s ≥ 50% of nginx's (same-size body): {sr['rps']:,.0f} vs {ng['rps']:,.0f} "
                           f"(= {100 * sr['rps'] / ng['rps']:.0f}%)"))
    f, l = s("big_first"), s("big_last")
    if f and l:
        checks.append((f["rps"] <= 1.2 * l["rps"] and l["p50"] <= 1.2 * f["p50"],
                       f"last page within 1.2× of first: req/s first/last = {f['rps'] / l['rps']:.2f}, "
                       f"p50 last/first = {l['p50'] / f['p50']:.2f}"))
    print("First round (bench/RESULTS.md):")
    for ok, text in checks:
        print(f"- {'met   ' if ok else 'MISSED'} {text}")
    if extra.get("quick") == "1":
        print("(--quick: small data set and 1 s loads; the targets are meant for the full run)")


if __name__ == "__main__":
    main()
