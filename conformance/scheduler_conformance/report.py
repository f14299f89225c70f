"""The report card three ways: for the terminal, as Markdown, and as JUnit XML."""

from xml.etree import ElementTree

from scheduler_conformance.runner import (
    FAILED,
    OUTSIDE_HTTP,
    PASSED,
    SKIPPED,
    UNAVAILABLE,
    LessonResult,
)

MARKS = {
    PASSED: "passed",
    FAILED: "FAILED",
    SKIPPED: "skipped",
    UNAVAILABLE: UNAVAILABLE,
    OUTSIDE_HTTP: OUTSIDE_HTTP,
}


def tally(result: LessonResult) -> str:
    """'5/6 checks' for a lesson with checks; nothing for one without."""
    if not result.outcomes:
        return ""
    passed = sum(outcome.status == PASSED for outcome in result.outcomes)
    skipped = sum(outcome.status == SKIPPED for outcome in result.outcomes)
    note = f", {skipped} skipped" if skipped else ""
    return f"{passed}/{len(result.outcomes)} checks passed{note}"


def card(results: list[LessonResult], base_url: str, unit_label: str) -> str:
    """The terminal report card: a line per lesson, then each failed lesson's first failure
    with its request and response in full."""
    lines = [f"Report card for {base_url} ({unit_label})", ""]
    for result in results:
        name = f"{result.lesson} {result.title} "
        lines.append(f"  {name:.<48} {MARKS[result.status]:<8} {tally(result)}".rstrip())
    for result in results:
        failure = result.first_failure
        if failure is None:
            continue
        lines += [
            "",
            f"── {result.lesson} {result.title}: {failure.check.title}",
            f"   {failure.message}",
        ]
        if failure.exchange:
            lines += ["", *(f"   {line}" for line in failure.exchange.render().splitlines())]
    skipped = [(r, o) for r in results for o in r.outcomes if o.status == SKIPPED]
    if skipped:
        lines += ["", "Skipped:"]
        lines += [f"  {r.lesson} {o.check.title}: {o.message}" for r, o in skipped]
    outside = [result for result in results if result.status == OUTSIDE_HTTP]
    if outside:
        lines += ["", "Not checked over HTTP:"]
        lines += [f"  {r.lesson} {r.title}: {r.outside_http}" for r in outside]
    lines += ["", summary(results)]
    return "\n".join(lines)


def summary(results: list[LessonResult]) -> str:
    """One line: how many lessons passed, failed, or are not checked yet."""
    counts = {status: sum(r.status == status for r in results) for status in MARKS}
    parts = [f"{counts[PASSED]} lessons passed", f"{counts[FAILED]} failed"]
    if counts[SKIPPED]:
        parts.append(f"{counts[SKIPPED]} skipped")
    if counts[OUTSIDE_HTTP]:
        parts.append(f"{counts[OUTSIDE_HTTP]} not checked over HTTP")
    if counts[UNAVAILABLE]:
        parts.append(f"{counts[UNAVAILABLE]} not yet available")
    return ", ".join(parts) + "."


def markdown(results: list[LessonResult], base_url: str, unit_label: str) -> str:
    """The card as a Markdown page: a table of lessons, then every check, failures in full."""
    lines = [f"# Conformance report: {base_url} ({unit_label})", "", summary(results), ""]
    lines += ["| lesson | status | checks |", "|---|---|---|"]
    lines += [f"| {r.lesson} {r.title} | {MARKS[r.status]} | {tally(r)} |" for r in results]
    for result in results:
        lines += ["", f"## {result.lesson} {result.title}: {MARKS[result.status]}", ""]
        if not result.available:
            lines.append("The checks of this unit are not yet available.")
        elif result.outside_http:
            lines.append(f"Not checked over HTTP: {result.outside_http}.")
        for outcome in result.outcomes:
            note = f": {outcome.message}" if outcome.message else ""
            lines.append(f"- **{MARKS[outcome.status]}** {outcome.check.title}{note}")
        failure = result.first_failure
        if failure and failure.exchange:
            lines += ["", "First failing request and response:", "", "```http"]
            lines += [failure.exchange.render(), "```"]
    return "\n".join(lines) + "\n"


def junit(results: list[LessonResult], unit_label: str) -> bytes:
    """The card as JUnit XML: a test suite per lesson, a test case per check."""
    suites = ElementTree.Element("testsuites", name=f"scheduler-conformance ({unit_label})")
    for result in results:
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=f"{result.lesson} {result.title}",
            tests=str(max(1, len(result.outcomes))),
            failures=str(sum(o.status == FAILED for o in result.outcomes)),
            skipped=str(
                sum(o.status == SKIPPED for o in result.outcomes) or int(not result.outcomes)
            ),
            time=f"{sum(o.seconds for o in result.outcomes):.3f}",
        )
        if not result.outcomes:  # not yet available, or not checked over HTTP: say why
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"lesson {result.lesson}", name="lesson checks"
            )
            reason = result.outside_http
            message = f"{OUTSIDE_HTTP}: {reason}" if reason else UNAVAILABLE
            ElementTree.SubElement(case, "skipped", message=message)
        for outcome in result.outcomes:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"lesson {result.lesson}",
                name=outcome.check.title,
                time=f"{outcome.seconds:.3f}",
            )
            if outcome.status == FAILED:
                failure = ElementTree.SubElement(case, "failure", message=outcome.message)
                failure.text = outcome.exchange.render() if outcome.exchange else outcome.message
            elif outcome.status == SKIPPED:
                ElementTree.SubElement(case, "skipped", message=outcome.message)
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)
