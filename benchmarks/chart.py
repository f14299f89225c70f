"""The result as one SVG, written by hand (no plotting library to install): throughput
against the bare app per endpoint, and the section list's latency by scale."""

from html import escape
from pathlib import Path

from report import MIN_RATIO

WIDTH, HEIGHT = 980, 410
APP_COLOUR, BARE_COLOUR, LAST_COLOUR = "#2563eb", "#64748b", "#ea580c"
FONT = 'font-family="system-ui, sans-serif"'
TITLE = 'font-weight="bold"'


def text(
    x: float, y: float, content: str, anchor: str = "start", size: int = 12, extra: str = ""
) -> str:
    """An SVG text element."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT} font-size="{size}" '
        f"{extra}>{escape(content)}</text>"
    )


def ratio_panel(result: dict, left: float, top: float, width: float) -> list[str]:
    """Bars of app/bare throughput per endpoint, with the 0.9× target line."""
    rows = list(result["endpoints"].items())
    label_width, row_height = 170, 34
    scale_max = max(1.2, *(row["ratio"] for _, row in rows))
    bar_width = width - label_width - 130
    x0 = left + label_width
    parts = [
        text(
            left,
            top,
            f"Throughput, unit ÷ bare app (scale {result['meta']['scale']})",
            size=14,
            extra=TITLE,
        ),
    ]
    for index, (name, row) in enumerate(rows):
        y = top + 20 + index * row_height
        length = bar_width * row["ratio"] / scale_max
        colour = APP_COLOUR if row["ratio"] >= MIN_RATIO else LAST_COLOUR
        parts += [
            text(x0 - 8, y + 15, name, "end"),
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{length:.1f}" height="20" fill="{colour}"/>',
            text(
                x0 + length + 6,
                y + 15,
                f"{row['ratio']:.2f}×  {row['app']['rps']:.0f} / {row['bare']['rps']:.0f} req/s",
            ),
        ]
    target_x = x0 + bar_width * MIN_RATIO / scale_max
    bottom = top + 20 + len(rows) * row_height
    parts += [
        f'<line x1="{target_x:.1f}" y1="{top + 12:.1f}" x2="{target_x:.1f}" y2="{bottom:.1f}" '
        'stroke="#111" stroke-dasharray="4 3"/>',
        text(target_x, bottom + 14, f"target {MIN_RATIO}×", "middle"),
    ]
    return parts


def scale_panel(result: dict, left: float, top: float, width: float, height: float) -> list[str]:
    """Median latency of the section list's first and last page at each scale."""
    scales = result["scales"]
    series = [
        ("first page", "app", APP_COLOUR, ""),
        ("first page", "bare", APP_COLOUR, 'stroke-dasharray="5 4"'),
        ("last page", "app", LAST_COLOUR, ""),
        ("last page", "bare", LAST_COLOUR, 'stroke-dasharray="5 4"'),
    ]
    peak = max(row[page][which]["p50_ms"] for row in scales for page, which, _, _ in series)
    plot_left, plot_top = left + 50, top + 20
    plot_width, plot_height = width - 60, height - 110
    y_max = peak * 1.1 or 1

    def x_at(index: int) -> float:
        """Where the index-th scale sits (evenly spaced)."""
        return plot_left + plot_width * (index + 0.5) / len(scales)

    def y_at(ms: float) -> float:
        """Where a latency sits."""
        return plot_top + plot_height * (1 - ms / y_max)

    parts = [
        text(
            left,
            top,
            "Section list p50 latency (ms) by seed scale",
            size=14,
            extra=TITLE,
        ),
        f'<line x1="{plot_left}" y1="{plot_top + plot_height}" x2="{plot_left + plot_width}" '
        f'y2="{plot_top + plot_height}" stroke="#111"/>',
        f'<line x1="{plot_left}" y1="{plot_top}" x2="{plot_left}" y2="{plot_top + plot_height}" '
        'stroke="#111"/>',
    ]
    for tick in range(5):
        ms = y_max * tick / 4
        parts.append(text(plot_left - 6, y_at(ms) + 4, f"{ms:.0f}", "end"))
    for index, row in enumerate(scales):
        below = plot_top + plot_height
        parts.append(text(x_at(index), below + 16, f"scale {row['scale']}", "middle"))
        parts.append(text(x_at(index), below + 30, f"{row['sections']} sections", "middle", 10))
    for number, (page, which, colour, dash) in enumerate(series):
        points = " ".join(
            f"{x_at(i):.1f},{y_at(row[page][which]['p50_ms']):.1f}" for i, row in enumerate(scales)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2" {dash}/>'
        )
        parts += [
            f'<circle cx="{x_at(i):.1f}" cy="{y_at(row[page][which]["p50_ms"]):.1f}" r="3" '
            f'fill="{colour}"/>'
            for i, row in enumerate(scales)
        ]
        legend_y = plot_top + plot_height + 50 + 16 * (number // 2)
        legend_x = plot_left + (number % 2) * plot_width / 2
        parts += [
            f'<line x1="{legend_x}" y1="{legend_y - 4}" x2="{legend_x + 24}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2" {dash}/>',
            text(legend_x + 30, legend_y, f"{page}, {'unit' if which == 'app' else 'bare app'}"),
        ]
    return parts


def write_chart(result: dict, path: Path) -> None:
    """Write the two panels, with the run's conditions underneath, as one SVG file."""
    meta = result["meta"]
    conditions = (
        f"{meta['started']}, commit {meta['commit']}, {meta['cpus']} CPUs, load average "
        f"{meta['load_average_at_start'][0]:.1f} at start, "
        f"{meta['load_average_at_end'][0]:.1f} at end"
    )
    tools = f"{meta['tool']}; gunicorn {meta['gunicorn']}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        *ratio_panel(result, 10, 24, 500),
        *scale_panel(result, 550, 24, 420, HEIGHT - 50),
        text(10, HEIGHT - 22, conditions, size=10, extra='fill="#555"'),
        text(10, HEIGHT - 8, tools, size=10, extra='fill="#555"'),
        "</svg>",
    ]
    path.write_text("\n".join(parts) + "\n")
