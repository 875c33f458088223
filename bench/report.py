"""The suite's results: medians over rounds, ratios, the Markdown tables and the chart."""

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

FLOOR_TOKEN = "floor+token"
PEER = "postgraphile"


def medians(
    runs: list[dict[str, Any]], counts: dict[tuple[str, str, str], Any]
) -> list[dict[str, Any]]:
    """One row per database, scenario and server: medians over rounds (and the range of
    rps),
    with the counting phase's statements per request, and ratios to the strong floor with
    the token lookup and to PostGraphile."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[(run["database"], run["scenario"], run["server"])].append(run)

    def median(group: list[dict[str, Any]], key: str) -> float | None:
        values = [r[key] for r in group if r.get(key) is not None]
        return statistics.median(values) if values else None

    rows = []
    for (database, scenario, server), group in groups.items():
        rates = [r["requests_per_second"] for r in group]
        rate = statistics.median(rates)
        rows.append(
            {
                "database": database,
                "scenario": scenario,
                "server": server,
                "rounds": len(group),
                "requests_per_second": rate,
                "rps_min": min(rates),
                "rps_max": max(rates),
                "round_spread_percent": 100 * (max(rates) - min(rates)) / rate if rate else None,
                "p50_ms": median(group, "p50_ms"),
                "p99_ms": median(group, "p99_ms"),
                "server_cpu_us_per_request": median(group, "server_cpu_us_per_request"),
                "database_cpu_us_per_request": median(group, "database_cpu_us_per_request"),
                "new_connections_per_request": median(group, "new_connections_per_request"),
                "statements_per_request": counts.get((database, scenario, server)),
                "non_2xx": sum(r["non_2xx"] for r in group),
            }
        )
    by_key = {(r["database"], r["scenario"], r["server"]): r for r in rows}
    for row in rows:
        for name, other in (("floor_token", FLOOR_TOKEN), ("postgraphile", PEER)):
            reference = by_key.get((row["database"], row["scenario"], other))
            row[f"ratio_to_{name}"] = (
                row["requests_per_second"] / reference["requests_per_second"]
                if reference and reference["requests_per_second"]
                else None
            )
    return rows


def _rate(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}\u00d7"


def markdown(rows: list[dict[str, Any]], servers: list[str], scenarios: list[str]) -> str:
    """Per database: one table of every measure, rows by scenario then server."""
    out = []
    for database in ("postgresql", "sqlite"):
        chosen = [r for r in rows if r["database"] == database]
        if not chosen:
            continue
        out += [
            f"#### {database}",
            "",
            "| scenario | server | req/s (min\u2013max) | p50 ms | p99 ms | server CPU µs/req "
            "| DB CPU µs/req | statements/req | new conns/req | vs floor+token | vs PostGraphile |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        order = {name: i for i, name in enumerate(servers)}
        for row in sorted(
            chosen, key=lambda r: (scenarios.index(r["scenario"]), order.get(r["server"], 99))
        ):
            out.append(
                f"| {row['scenario']} | {row['server']} | {_rate(row['requests_per_second'])} "
                f"({_rate(row['rps_min'])}\u2013{_rate(row['rps_max'])}) "
                f"| {_number(row['p50_ms'], 2)} | {_number(row['p99_ms'], 2)} "
                f"| {_number(row['server_cpu_us_per_request'])} "
                f"| {_number(row['database_cpu_us_per_request'])} "
                f"| {_number(row['statements_per_request'], 1)} "
                f"| {_number(row['new_connections_per_request'], 3)} "
                f"| {_ratio(row['ratio_to_floor_token'])} "
                f"| {_ratio(row['ratio_to_postgraphile'])} |"
            )
        out.append("")
    return "\n".join(out)


def headline(rows: list[dict[str, Any]], servers: list[str], scenarios: list[str]) -> str:
    """The issue's table: PostgreSQL, a cell per scenario and server: req/s · server CPU."""
    by_key = {(r["scenario"], r["server"]): r for r in rows if r["database"] == "postgresql"}
    present = [s for s in servers if any((sc, s) in by_key for sc in scenarios)]
    lines = [
        "| scenario | " + " | ".join(present) + " |",
        "| --- |" + " ---: |" * len(present),
    ]
    for scenario in scenarios:
        cells = []
        for server in present:
            row = by_key.get((scenario, server))
            if row is None:
                cells.append("—")
                continue
            cpu = row["server_cpu_us_per_request"]
            cpu_text = (
                ""
                if cpu is None
                else (f" · {cpu / 1000:,.1f} ms" if cpu >= 10_000 else f" · {cpu:,.0f} µs")
            )
            cells.append(f"{_rate(row['requests_per_second'])}{cpu_text}")
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def chart(
    rows: list[dict[str, Any]], servers: list[str], scenarios: list[str], path: Path, title: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    databases = [d for d in ("postgresql", "sqlite") if any(r["database"] == d for r in rows)]
    figure, axes = plt.subplots(1, len(databases), figsize=(7 * len(databases), 4.5), squeeze=False)
    for axis, database in zip(axes[0], databases, strict=True):
        present = [
            s for s in servers if any(r["server"] == s and r["database"] == database for r in rows)
        ]
        width = 0.8 / max(len(present), 1)
        for i, server in enumerate(present):
            values = []
            for scenario in scenarios:
                row = next(
                    (
                        r
                        for r in rows
                        if (r["database"], r["scenario"], r["server"])
                        == (database, scenario, server)
                    ),
                    None,
                )
                values.append(row["requests_per_second"] if row else 0)
            axis.bar(
                [j - 0.4 + width * (i + 0.5) for j in range(len(scenarios))],
                values,
                width,
                label=server,
            )
        axis.set_yscale("log")
        axis.set_xticks(range(len(scenarios)), scenarios)
        axis.set_ylabel("requests per second (log scale)")
        axis.set_title(database)
        axis.grid(axis="y", which="both", alpha=0.3)
        axis.legend(fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
