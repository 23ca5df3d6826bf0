"""A sweep's report: sweep.json, sweep.md and sweep.png in the sweep's folder (this module owns their format).

It reads each child's run folder through `RunFolder` (summary.json and the final evaluation report) and
its last sample grid, ranks the configurations by SWD with the mean and spread over their seeds (the
colour figure's mean and spread beside it), and
draws every child's last grid side by side, labelled. A child counts only when its folder's summary was
written by a run with exactly the child's options: a stale summary of other options is never reported.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ganmodels.flags import flag
from ganmodels.metrics.registry import metrics
from ganmodels.metrics.registry import num as _num
from tasks.atomic import read_json, write_bytes, write_json
from tasks.pictures import write_png
from tasks.progress_gif import sample_frames
from tasks.run_folder import RunFolder

TILE_SIDE = 224  # px: grids are enlarged (nearest neighbour) to this height so labels fit and faces show
TILES_PER_ROW = 4
LABEL_BAND = 40
REPORT_JSON, REPORT_MD, REPORT_PNG = "sweep.json", "sweep.md", "sweep.png"


@dataclass(frozen=True)
class ChildOutcome:
    """How a child ended in this sweep run: completed, reused (finished before), failed, crashed, cancelled."""

    name: str
    state: str
    flow_run_id: str | None = None
    message: str = ""


@dataclass(frozen=True)
class SweepReport:
    json: Path
    markdown: Path
    picture: Path
    data: dict[str, Any]


def _summary(run_dir: Path) -> dict[str, Any]:
    return read_json(RunFolder(run_dir).summary) or {}


def child_finished(run_dir: Path, params: dict[str, Any]) -> bool:
    """The folder holds a finished run with exactly these options (a budget stop is finished too)."""
    return _summary(run_dir).get("params") == params


def child_record(name: str, point: dict, run_dir: Path, params: dict, outcome: ChildOutcome) -> dict[str, Any]:
    """One row of the report: the child's options and state, and its figures when it finished."""
    record: dict[str, Any] = {
        "name": name,
        "point": point,
        "state": outcome.state,
        "flow_run_id": outcome.flow_run_id,
        "message": outcome.message,
        "run_dir": str(run_dir),
        "options": params,
    }
    summary = _summary(run_dir)
    if summary.get("params") != params:
        return record
    training, quality = summary.get("training", {}), summary.get("quality", {})
    evaluation = read_json(Path(quality["report"])) if quality.get("report") else {}
    train = evaluation.get("train") or {}
    frames = sample_frames(RunFolder(run_dir).samples)
    record.update(
        {
            "stopped": training.get("stopped", "epochs"),
            "epochs": training.get("epochs"),
            "steps": training.get("total_steps"),
            "steps_last_run": training.get("steps_this_run"),
            "wall_seconds": round(sum(s.get("seconds", 0.0) for s in summary.get("steps", {}).values()), 1),
            "scored_against": evaluation.get("scored_against", "training"),
        }
    )
    for metric in metrics():
        record.update(metric.sweep(evaluation.get(metric.name), train.get(metric.name)))
    if record.get("swd") is None:  # an evaluation from before the report: the summary's final SWD
        record["swd"] = quality.get("swd")
    record["last_grid"] = str(frames[-1][1]) if frames else None
    return record


def configuration(point: dict[str, Any]) -> str:
    """A grid point without its seed: the runs that differ only by seed are one configuration."""
    return ", ".join(f"{k}={v}" for k, v in point.items() if k != "seed") or "(all)"


def _mean_spread(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (0 for one value, None for none)."""
    if not values:
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def ranking(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Configurations by mean SWD (lower is better), with the spread over seeds and the ratio to the best,
    and the colour figure's mean and spread beside it."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(configuration(record["point"]), []).append(record)
    rows = []
    for config, members in groups.items():
        swds = [m["swd"] for m in members if isinstance(m.get("swd"), int | float)]
        colours = [m["colour"] for m in members if isinstance(m.get("colour"), int | float)]
        swd_mean, swd_sd = _mean_spread(swds)
        colour_mean, colour_sd = _mean_spread(colours)
        rows.append(
            {
                "configuration": config,
                "runs": len(members),
                "scored": len(swds),
                "seeds": [m["point"].get("seed", m["options"].get("seed")) for m in members],
                "swd_mean": swd_mean,
                "swd_sd": swd_sd,
                "swd_min": min(swds, default=None),
                "swd_max": max(swds, default=None),
                "colour_mean": colour_mean,
                "colour_sd": colour_sd,
            }
        )
    rows.sort(key=lambda r: math.inf if r["swd_mean"] is None else r["swd_mean"])
    best = rows[0]["swd_mean"] if rows and rows[0]["swd_mean"] else None
    for row in rows:
        row["vs_best"] = row["swd_mean"] / best if best and row["swd_mean"] is not None else None
    return rows


def markdown(data: dict[str, Any], picture: str) -> str:
    """sweep.md: the ranking, then every run; `picture` is the image's link (a file name, or a data: URI)."""
    grid = "; ".join(f"{k} = {', '.join(map(str, v))}" for k, v in data["sweep"]["grid"].items())
    shared = " ".join(f"{flag(k)} {v}" for k, v in data["sweep"]["options"].items()) or "none"
    columns = [column for metric in metrics() for column in metric.sweep_columns]
    lines = [
        f"# Sweep `{data['sweep']['sweep_dir']}`",
        "",
        f"- grid: {grid}",
        f"- shared options: `{shared}`",
        f"- runs: {len(data['children'])}, finished: {sum(1 for c in data['children'] if 'swd' in c)}",
        "",
        "## Ranking by SWD x1e3 (lower is better; mean and sample standard deviation over seeds)",
        "",
        "The colour figure (0..255, lower is better) stands beside it: SWD normalises colours away.",
        "",
        "| # | configuration | runs | SWD mean | SD | min - max | vs best | colour mean | SD |",
        "| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for i, row in enumerate(data["ranking"], 1):
        ratio = f"x{row['vs_best']:.2f}" if row["vs_best"] is not None else "-"
        lines.append(
            f"| {i} | {row['configuration']} | {row['scored']}/{row['runs']} | {_num(row['swd_mean'])} | "
            f"{_num(row['swd_sd'])} | {_num(row['swd_min'])} - {_num(row['swd_max'])} | {ratio} | "
            f"{_num(row.get('colour_mean'))} | {_num(row.get('colour_sd'))} |"
        )
    lines += [
        "",
        "## Runs",
        "",
        "Figures are against held-out images where the run held some out, with the training images' SWD and "
        "colour figure in brackets; colour spread is the generated (real) images'.",
        "",
        "| run | options | state | stopped | epochs | steps | wall s | "
        + " | ".join(column.header for column in columns)
        + " |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | " + " | ".join(column.align for column in columns) + " |",
    ]
    for c in data["children"]:
        options = " ".join(f"{k}={v}" for k, v in c["point"].items())
        lines.append(
            f"| {c['name']} | {options} | {c['state']} | {c.get('stopped', '-')} | {_num(c.get('epochs'))} | "
            f"{_num(c.get('steps'))} | {_num(c.get('wall_seconds'), 1)} | "
            + " | ".join(column.cell(c) for column in columns)
            + " |"
        )
    failed = [c for c in data["children"] if c["message"] and c["state"] not in ("completed", "reused")]
    if failed:
        lines += ["", "## Did not finish", ""] + [f"- {c['name']}: {c['state']}: {c['message']}" for c in failed]
    lines += ["", "## Last sample grids", "", f"![each run's last sample grid]({picture})", ""]
    return "\n".join(lines)


def _tile(record: dict[str, Any]) -> np.ndarray:
    """The child's last grid enlarged to TILE_SIDE high, with its name and SWD in a band above."""
    if record.get("last_grid"):
        image = cv2.cvtColor(cv2.imread(record["last_grid"], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        scale = TILE_SIDE / image.shape[0]
        image = cv2.resize(image, (round(image.shape[1] * scale), TILE_SIDE), interpolation=cv2.INTER_NEAREST)
    else:
        image = np.full((TILE_SIDE, TILE_SIDE, 3), 48, np.uint8)
        cv2.putText(image, "no sample", (60, TILE_SIDE // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (200, 200, 200), 1)
    band = np.full((LABEL_BAND, max(image.shape[1], TILE_SIDE), 3), 24, np.uint8)
    swd = f"SWD {record['swd']:.2f}" if isinstance(record.get("swd"), int | float) else record["state"]
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(band, record["name"][:40], (6, 16), font, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    cv2.putText(band, swd, (6, 34), font, 0.42, (160, 220, 160), 1, cv2.LINE_AA)
    tile = np.zeros((LABEL_BAND + TILE_SIDE, band.shape[1], 3), np.uint8)
    tile[:LABEL_BAND] = band
    tile[LABEL_BAND:, : image.shape[1]] = image
    return tile


def picture(records: list[dict[str, Any]], gap: int = 6) -> np.ndarray:
    """Every child's tile, side by side, TILES_PER_ROW to a row."""
    tiles = [_tile(r) for r in records]
    width = max(t.shape[1] for t in tiles)
    rows = [tiles[i : i + TILES_PER_ROW] for i in range(0, len(tiles), TILES_PER_ROW)]
    cols = min(len(tiles), TILES_PER_ROW)
    height = tiles[0].shape[0]
    canvas = np.full((len(rows) * (height + gap) + gap, cols * (width + gap) + gap, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for k, tile in enumerate(row):
            y, x = gap + r * (height + gap), gap + k * (width + gap)
            canvas[y : y + height, x : x + tile.shape[1]] = tile
    return canvas


def write_sweep_report(
    sweep_dir: Path, sweep: dict[str, Any], children: list[tuple[str, dict, Path, dict, ChildOutcome]]
) -> SweepReport:
    """sweep.json, sweep.md and sweep.png for the children (name, point, run folder, options, outcome)."""
    sweep_dir = Path(sweep_dir)
    records = [child_record(*child) for child in children]
    data = {"sweep": sweep, "children": records, "ranking": ranking(records)}
    png = write_png(sweep_dir / REPORT_PNG, picture(records))
    md = write_bytes(sweep_dir / REPORT_MD, markdown(data, REPORT_PNG).encode())
    return SweepReport(write_json(sweep_dir / REPORT_JSON, data), md, png, data)
