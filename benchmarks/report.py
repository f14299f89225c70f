"""The targets of the performance issue, judged against a result, and the printed report."""

MIN_RATIO = 0.9  # every endpoint's throughput against the bare app's
MIN_SPEEDUP = 3.0  # the section list at scale 20 against the baseline ("today")
SPEEDUP_SCALE = 20
BURST_P99_MS = 500
READ_P99_MS = 50
MAX_GROWTH = 2.0  # first-page p50 at the largest scale against the smallest


def target(name: str, measured: str, passed: bool | None) -> dict:
    """One target line; `passed` None when it could not be judged in this run."""
    verdict = "n/a" if passed is None else ("PASS" if passed else "FAIL")
    return {"target": name, "measured": measured, "verdict": verdict}


def evaluate_targets(result: dict, baseline: dict | None) -> list[dict]:
    """Judge every target that the result has the numbers for."""
    targets = [
        target(
            f"{name}: ≥ {MIN_RATIO}× the bare app's throughput",
            f"{row['ratio']:.2f}× ({row['app']['rps']:.0f} vs {row['bare']['rps']:.0f} req/s)",
            row["ratio"] >= MIN_RATIO,
        )
        for name, row in result["endpoints"].items()
    ]

    list_rps = result["endpoints"]["sections"]["app"]["rps"]
    speedup_name = f"section list at scale {SPEEDUP_SCALE}: ≥ {MIN_SPEEDUP}× the baseline"
    if result["meta"]["scale"] != SPEEDUP_SCALE:
        targets.append(
            target(speedup_name, f"this run is at scale {result['meta']['scale']}", None)
        )
    elif baseline is None or baseline["meta"]["scale"] != SPEEDUP_SCALE:
        targets.append(target(speedup_name, f"{list_rps:.0f} req/s; no baseline to compare", None))
    else:
        before = baseline["endpoints"]["sections"]["app"]["rps"]
        targets.append(
            target(
                speedup_name,
                f"{list_rps / before:.2f}× ({list_rps:.0f} vs {before:.0f} req/s)",
                list_rps / before >= MIN_SPEEDUP,
            )
        )

    burst = result["burst"]
    created = burst["statuses"].get("201", 0)
    seated, waiting = burst["stored"].get("enrolled", 0), burst["stored"].get("waitlisted", 0)
    seats, size = result["meta"]["plan"]["burst_seats"], result["meta"]["plan"]["burst"]
    targets.append(
        target(
            f"{size} concurrent enrollments into {seats} seats: exactly {seats} seated (the "
            f"rest waitlisted, 201 each), p99 < {BURST_P99_MS} ms",
            f"{created} × 201 of {burst['requests']}; {seated} seated, {waiting} waitlisted; "
            f"p99 {burst['p99_ms']:.0f} ms",
            created == size
            and seated == seats
            and waiting == size - seats
            and burst["p99_ms"] < BURST_P99_MS,
        )
    )

    reads = result["reads_during_logins"]["courses"]
    logins = result["meta"]["plan"]["background_logins"]
    targets.append(
        target(
            f"GET /courses p99 < {READ_P99_MS} ms while {logins} logins run",
            f"p99 {reads['p99_ms']:.0f} ms over {reads['requests']} requests"
            if reads["requests"]
            else "no GET started in the window finished before the logins did",
            bool(reads["requests"]) and reads["p99_ms"] < READ_P99_MS,
        )
    )

    smallest, largest = result["scales"][0], result["scales"][-1]
    growth = largest["first page"]["app"]["p50_ms"] / smallest["first page"]["app"]["p50_ms"]
    targets.append(
        target(
            f"first page p50 at scale {largest['scale']} ≤ {MAX_GROWTH}× scale "
            f"{smallest['scale']} (grows with the page, not the table)",
            f"{growth:.2f}× ({largest['first page']['app']['p50_ms']:.1f} vs "
            f"{smallest['first page']['app']['p50_ms']:.1f} ms)",
            growth <= MAX_GROWTH,
        )
    )
    return targets


def print_report(result: dict) -> None:
    """Print the endpoint table, the scale series and the targets."""
    meta = result["meta"]
    print(f"\nScale {meta['scale']}, {meta['tool']}, gunicorn {meta['gunicorn']}")
    print(
        f"load average (1, 5, 15 min) at start {meta['load_average_at_start']}, "
        f"at end {meta['load_average_at_end']}"
    )
    statements = result.get("statements", {})
    print(
        f"\n{'endpoint':<24}{'app req/s':>10}{'bare req/s':>11}{'ratio':>7}"
        f"{'app p50':>9}{'app p99':>9}{'bare p50':>9}{'bare p99':>9}{'stmts app/bare':>16}"
    )
    for name, row in result["endpoints"].items():
        app, bare = row["app"], row["bare"]
        counted = statements.get(name)
        stmts = f"{counted['app']:g} / {counted['bare']:g}" if counted else "-"
        print(
            f"{name:<24}{app['rps']:>10.1f}{bare['rps']:>11.1f}{row['ratio']:>7.2f}"
            f"{app['p50_ms']:>9.1f}{app['p99_ms']:>9.1f}{bare['p50_ms']:>9.1f}{bare['p99_ms']:>9.1f}"
            f"{stmts:>16}"
        )
    print(
        f"\n{'scale':>5}{'sections':>9}  p50 ms: {'first app':>10}{'first bare':>11}"
        f"{'last app':>10}{'last bare':>10}"
    )
    for row in result["scales"]:
        first, last = row["first page"], row["last page"]
        print(
            f"{row['scale']:>5}{row['sections']:>9}          {first['app']['p50_ms']:>10.1f}"
            f"{first['bare']['p50_ms']:>11.1f}{last['app']['p50_ms']:>10.1f}"
            f"{last['bare']['p50_ms']:>10.1f}"
        )
    print()
    for line in result["targets"]:
        print(f"{line['verdict']:<5} {line['target']}: {line['measured']}")


def write_markdown(result: dict, path) -> None:
    """Write the endpoint table, the scale series and the targets as Markdown (the guide's
    Performance page includes this file)."""
    statements = result.get("statements", {})
    lines = [
        "| endpoint | unit req/s | bare req/s | ratio | unit p50 / p99 ms | bare p50 / p99 ms "
        "| statements unit / bare |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, row in result["endpoints"].items():
        app, bare, counted = row["app"], row["bare"], statements.get(name)
        stmts = f"{counted['app']:g} / {counted['bare']:g}" if counted else "–"
        lines.append(
            f"| `{name}` | {app['rps']:.0f} | {bare['rps']:.0f} | {row['ratio']:.2f} "
            f"| {app['p50_ms']:.0f} / {app['p99_ms']:.0f} | {bare['p50_ms']:.0f} / "
            f"{bare['p99_ms']:.0f} | {stmts} |"
        )
    lines += [
        "",
        "| scale | sections | first page p50 ms, unit / bare | last page p50 ms, unit / bare |",
        "|--:|--:|--:|--:|",
    ]
    for row in result["scales"]:
        first, last = row["first page"], row["last page"]
        lines.append(
            f"| {row['scale']} | {row['sections']} | {first['app']['p50_ms']:.1f} / "
            f"{first['bare']['p50_ms']:.1f} | {last['app']['p50_ms']:.1f} / "
            f"{last['bare']['p50_ms']:.1f} |"
        )
    lines += ["", "| verdict | target | measured |", "|---|---|---|"]
    lines += [f"| {t['verdict']} | {t['target']} | {t['measured']} |" for t in result["targets"]]
    path.write_text("\n".join(lines) + "\n")
