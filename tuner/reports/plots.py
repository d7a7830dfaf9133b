"""The report's plots as inline SVG strings, drawn in Python so the HTML works offline with no plotting library.

Every text that comes from the run (hyperparameter names and values, trial ids) is escaped here, because the
template inserts these SVG strings as markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import markupsafe
import pandas as pd

from tuner.reports.records import HP_PREFIX
from tuner.text import visible

WIDTH, HEIGHT = 720, 300
SMALL_WIDTH, SMALL_HEIGHT = 340, 230
LEFT, RIGHT, TOP, BOTTOM = 64, 18, 18, 46
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
# Viridis stops, for colouring lines from best (dark) to worst (light).
GRADIENT = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


def escape(content: object) -> markupsafe.Markup:
    """A text from the run for SVG: markup escaped, and controls and bidirectional marks shown as escapes."""
    return markupsafe.escape(visible(str(content), keep="\n"))


@dataclass(frozen=True)
class Scale:
    """Maps data values onto pixels along one axis, linearly or logarithmically."""

    lo: float
    hi: float
    start: float
    end: float
    log: bool = False
    integer: bool = False

    def _t(self, value: float) -> float:
        lo, hi, value = (math.log10(v) for v in (self.lo, self.hi, value)) if self.log else (self.lo, self.hi, value)
        return 0.5 if hi == lo else (value - lo) / (hi - lo)

    def __call__(self, value: float) -> float:
        """The pixel position of ``value``, clamped to the axis."""
        return round(self.start + (self.end - self.start) * min(1.0, max(0.0, self._t(value))), 1)

    def ticks(self) -> list[float]:
        """About five readable tick values inside the range."""
        if self.hi == self.lo:
            return [self.lo]
        if self.log:
            first, last = math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi))
            steps = [1, 2, 5] if last - first <= 2 else [1]
            values = [m * 10.0**e for e in range(first, last + 1) for m in steps]
        else:
            raw = (self.hi - self.lo) / 5
            magnitude = 10 ** math.floor(math.log10(raw))
            step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
            # Epochs and block counts are whole numbers: no ticks in between.
            step = max(1, math.ceil(step)) if self.integer else step
            values = [step * i for i in range(math.ceil(self.lo / step), math.floor(self.hi / step) + 1)]
        return [v for v in values if self.lo - 1e-12 <= v <= self.hi + 1e-12]


def fmt(value: Any) -> str:
    """A short label for a number (three significant digits) or any other value."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def robust_range(values: Sequence[float]) -> tuple[float, float]:
    """The range to draw: all values, unless a few diverged ones would squash the rest (those get clipped)."""
    ordered = sorted(values)
    lo, hi = ordered[0], ordered[-1]
    if len(ordered) >= 8:
        q10, q90 = ordered[len(ordered) // 10], ordered[(len(ordered) * 9) // 10]
        spread = q90 - q10
        lo, hi = max(lo, q10 - 3 * spread), min(hi, q90 + 3 * spread)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.04
    return lo - pad, hi + pad


def color(t: float) -> str:
    """A colour from dark (t=0, best) to light (t=1, worst)."""
    t = min(1.0, max(0.0, t)) * (len(GRADIENT) - 1)
    i = min(int(t), len(GRADIENT) - 2)
    a, b = GRADIENT[i], GRADIENT[i + 1]
    return "#" + "".join(f"{round(x + (y - x) * (t - i)):02x}" for x, y in zip(a, b, strict=True))


def svg(width: int, height: int, body: list[str], label: str) -> str:
    """A complete SVG element with an accessible label."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-label="{escape(label)}">{"".join(body)}</svg>'
    )


def text(x: float, y: float, content: Any, anchor: str = "middle", extra: str = "") -> str:
    """An escaped text label."""
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}" {extra}>{escape(fmt(content))}</text>'


def frame(x: Scale | None, y: Scale, x_title: str, y_title: str, width: int, height: int) -> list[str]:
    """Axes with ticks, grid lines and titles."""
    parts = [f'<rect x="{LEFT}" y="{TOP}" width="{width - LEFT - RIGHT}" height="{height - TOP - BOTTOM}" class="bg"/>']
    for tick in y.ticks():
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y(tick)}" y2="{y(tick)}" class="grid"/>')
        parts.append(text(LEFT - 6, y(tick) + 4, tick, "end"))
    for tick in x.ticks() if x else []:
        parts.append(f'<line y1="{TOP}" y2="{height - BOTTOM}" x1="{x(tick)}" x2="{x(tick)}" class="grid"/>')
        parts.append(text(x(tick), height - BOTTOM + 16, tick))
    parts.append(text((LEFT + width - RIGHT) / 2, height - 8, x_title, extra='class="title"'))
    parts.append(
        text(
            14,
            (TOP + height - BOTTOM) / 2,
            y_title,
            extra=f'class="title" transform="rotate(-90 14 {(TOP + height - BOTTOM) / 2})"',
        )
    )
    return parts


def point(x: float, y: float, tip: str, fill: str, clipped: bool = False) -> str:
    """A marker with a hover tooltip; clipped values (off the drawn range) show as triangles."""
    title = f"<title>{escape(tip)}</title>"
    if clipped:
        return f'<path d="M{x - 4},{y + 3}L{x + 4},{y + 3}L{x},{y - 4}Z" fill="{fill}">{title}</path>'
    return f'<circle cx="{x}" cy="{y}" r="3.5" fill="{fill}" fill-opacity="0.75">{title}</circle>'


def _completed(ranked: pd.DataFrame) -> pd.DataFrame:
    return ranked[ranked["rank"].notna()]


def _y_scale(values: Sequence[float], height: int) -> Scale:
    lo, hi = robust_range(values)
    return Scale(lo, hi, height - BOTTOM, TOP)


def _clipped(scale: Scale, value: float) -> bool:
    return not scale.lo <= value <= scale.hi


def objective_per_trial(ranked: pd.DataFrame, objective: str, direction: str) -> str:
    """Each completed trial's objective in the order trials ran, with the best-so-far line."""
    done = _completed(ranked).sort_values("trial", key=lambda ids: ids.map(_trial_order))
    if done.empty:
        return ""
    values = done["objective"].tolist()
    y = _y_scale(values, HEIGHT)
    x = Scale(1, max(len(values), 2), LEFT + 10, WIDTH - RIGHT - 10, integer=True)
    parts = frame(x, y, "trials in the order they ran", objective, WIDTH, HEIGHT)
    best, line = None, []
    pick = min if direction == "min" else max
    for i, value in enumerate(values, start=1):
        best = value if best is None else pick(best, value)
        line.append(f"{x(i)},{y(best)}")
    parts.append(f'<polyline points="{" ".join(line)}" class="best"/>')
    for i, (trial, value) in enumerate(zip(done["trial"], values, strict=True), start=1):
        parts.append(point(x(i), y(value), f"trial {trial}: {fmt(value)}", PALETTE[0], _clipped(y, value)))
    return svg(WIDTH, HEIGHT, parts, f"{objective} per trial with the best so far")


def _trial_order(trial: Any) -> Any:
    return int(trial) if str(trial).isdigit() else str(trial)


def _options(config: dict[str, Any], present: Sequence[Any]) -> list[Any]:
    """The values a categorical axis shows: the declared ones, then any others seen."""
    declared = list(config.get("values", [])) or ([config["value"]] if "value" in config else [])
    return declared + [value for value in dict.fromkeys(present) if value not in declared]


def _axis_for(item: dict[str, Any], present: Sequence[Any], start: float, end: float) -> Callable[[Any], float]:
    """Pixel position of a hyperparameter value along an axis: numeric ranges scale, choices are spread evenly."""
    config = item["config"]
    if item["class_name"] in ("Int", "Float") and present:
        lo, hi = min(config["min_value"], *present), max(config["max_value"], *present)
        log = config.get("sampling") == "log" and lo > 0
        return Scale(lo, hi, start, end, log=log, integer=item["class_name"] == "Int")
    options = _options(config, present)
    positions = {repr(option): i for i, option in enumerate(options)}
    step = (end - start) / len(options)
    return lambda value: round(start + step * (positions[repr(value)] + 0.5), 1)


def _categorical_ticks(item: dict[str, Any], present: Sequence[Any]) -> list[Any]:
    return [] if item["class_name"] in ("Int", "Float") else _options(item["config"], present)


def objective_vs_hyperparameter(ranked: pd.DataFrame, item: dict[str, Any], objective: str) -> str:
    """The objective of every completed trial against one hyperparameter (trials where it is inactive left out)."""
    name = item["config"]["name"]
    done = _completed(ranked)
    column = f"{HP_PREFIX}{name}"
    if column not in done.columns:
        return ""
    active = done[done[column].notna()]
    if active.empty:
        return ""
    present = [_plain(value) for value in active[column]]
    y = _y_scale(active["objective"].tolist(), SMALL_HEIGHT)
    place = _axis_for(item, present, LEFT + 8, SMALL_WIDTH - RIGHT - 8)
    parts = frame(place if isinstance(place, Scale) else None, y, name, objective, SMALL_WIDTH, SMALL_HEIGHT)
    ticks = _categorical_ticks(item, present)
    for option in ticks:
        parts.append(text(place(option), SMALL_HEIGHT - BOTTOM + 16, option))
    band = (SMALL_WIDTH - LEFT - RIGHT) / max(len(ticks), 1) * 0.5 if ticks else 0
    for i, (trial, value, score) in enumerate(zip(active["trial"], present, active["objective"], strict=True)):
        jitter = ((i * 0.618) % 1 - 0.5) * band
        tip = f"trial {trial}: {name}={fmt(value)}, {objective}={fmt(score)}"
        parts.append(point(round(place(value) + jitter, 1), y(score), tip, PALETTE[0], _clipped(y, score)))
    return svg(SMALL_WIDTH, SMALL_HEIGHT, parts, f"{objective} against {name}")


def objective_vs_cost(ranked: pd.DataFrame, cost: str, title: str, objective: str) -> str:
    """Every completed trial's objective against one cost of its model, the Pareto front in red and joined."""
    done = _completed(ranked)
    if done.empty or cost not in done.columns or done[cost].isna().any() or not (done[cost] > 0).all():
        return ""
    costs, scores = done[cost].astype(float).tolist(), done["objective"].tolist()
    lo, hi = min(costs), max(costs)
    x = Scale(lo, hi, LEFT + 8, SMALL_WIDTH - RIGHT - 8, log=hi > 10 * lo)
    y = _y_scale(scores, SMALL_HEIGHT)
    parts = frame(x, y, title, objective, SMALL_WIDTH, SMALL_HEIGHT)
    front = done[done["pareto"].astype(bool)].sort_values(cost)
    line = " ".join(f"{x(c)},{y(v)}" for c, v in zip(front[cost].astype(float), front["objective"], strict=True))
    parts.append(f'<polyline points="{line}" class="best"/>')
    for trial, value, score, best in zip(done["trial"], costs, scores, done["pareto"], strict=True):
        tip = f"trial {trial}: {title} {fmt(value)}, {objective} {fmt(score)}{' (Pareto front)' if best else ''}"
        parts.append(point(x(value), y(score), tip, PALETTE[3] if best else PALETTE[0], _clipped(y, score)))
    return svg(SMALL_WIDTH, SMALL_HEIGHT, parts, f"{objective} against {title}")


def _plain(value: Any) -> Any:
    """A numpy or pandas scalar as the plain Python value the space declares."""
    return value.item() if hasattr(value, "item") else value


def parallel_coordinates(ranked: pd.DataFrame, hyperparameters: list[dict[str, Any]], objective: str) -> str:
    """One line per completed trial across an axis per tuned hyperparameter and the objective; dark is best."""
    done = _completed(ranked)
    items = [item for item in hyperparameters if item["class_name"] != "Fixed"]
    items = [item for item in items if f"{HP_PREFIX}{item['config']['name']}" in done.columns]
    if done.empty or not items:
        return ""
    height, top, bottom, gap = 340, 30, 300, 92
    width = LEFT + gap * len(items) + 70
    xs = [round(LEFT + gap * i, 1) for i in range(len(items) + 1)]
    parts: list[str] = []
    axes = []
    for x, item in zip(xs, items, strict=False):
        column = done[f"{HP_PREFIX}{item['config']['name']}"]
        present = [_plain(value) for value in column.dropna()]
        place = _axis_for(item, present, bottom, top) if present else (lambda value: bottom)
        axes.append(place)
        parts.append(f'<line x1="{x}" x2="{x}" y1="{top}" y2="{bottom}" class="axis"/>')
        parts.append(text(x, top - 10, item["config"]["name"], extra='class="title"'))
        parts.append(text(x + 4, bottom + 18, "n/a", "start", 'class="muted"'))
        labels = _categorical_ticks(item, present) or ([min(present), max(present)] if present else [])
        parts.extend(text(x + 4, place(label) + 4, label, "start", 'class="halo"') for label in labels)
    y = Scale(*robust_range(done["objective"].tolist()), bottom, top)
    parts.append(f'<line x1="{xs[-1]}" x2="{xs[-1]}" y1="{top}" y2="{bottom}" class="axis"/>')
    parts.append(text(xs[-1], top - 10, objective, extra='class="title"'))
    parts.extend(text(xs[-1] + 4, y(tick) + 4, tick, "start", 'class="halo"') for tick in y.ticks())
    count = max(len(done) - 1, 1)
    lines = []
    values_of = [done[f"{HP_PREFIX}{item['config']['name']}"].tolist() for item in items]
    rows = zip(done["trial"], done["rank"], done["objective"], *values_of, strict=True)
    for position, (trial, rank, score, *values) in enumerate(rows):
        points = [
            f"{x},{bottom + 14 if pd.isna(value) else place(_plain(value))}"
            for x, place, value in zip(xs, axes, values, strict=False)
        ]
        points.append(f"{xs[-1]},{y(score)}")
        tip = f"trial {trial} (rank {rank}): {objective}={fmt(score)}"
        lines.append(
            f'<polyline points="{" ".join(points)}" stroke="{color(position / count)}" class="pc">'
            f"<title>{escape(tip)}</title></polyline>"
        )
    # Lines go under the axes and their labels, worst first so the best lines are drawn on top.
    return svg(round(width), height, [*reversed(lines), *parts], "parallel coordinates over the hyperparameters")


def learning_curves(
    ranked: pd.DataFrame, histories: dict[str, list[list[dict[str, Any]]]], metric: str, top: int
) -> str:
    """``metric`` per epoch for the best ``top`` trials, one line per restart, one colour per trial."""
    chosen = [trial for trial in _completed(ranked)["trial"].head(top) if histories.get(trial)]
    curves = [
        (trial, [(e["epoch"], e[metric]) for e in epochs if _finite(e.get(metric))])
        for trial in chosen
        for epochs in histories[trial]
    ]
    curves = [(trial, points) for trial, points in curves if points]
    if not curves:
        return ""
    y = _y_scale([v for _, points in curves for _, v in points], HEIGHT)
    last = max(epoch for _, points in curves for epoch, _ in points)
    x = Scale(1, max(last, 2), LEFT + 10, WIDTH - RIGHT - 130, integer=True)
    parts = frame(x, y, "epoch", metric, WIDTH, HEIGHT)
    colors = {trial: PALETTE[i % len(PALETTE)] for i, trial in enumerate(chosen)}
    for trial, points in curves:
        line = " ".join(f"{x(epoch)},{y(value)}" for epoch, value in points)
        parts.append(
            f'<polyline points="{line}" stroke="{colors[trial]}" class="curve"><title>trial {escape(trial)}</title>'
            "</polyline>"
        )
    for i, trial in enumerate(chosen):
        parts.append(f'<rect x="{WIDTH - 120}" y="{TOP + 18 * i}" width="12" height="12" fill="{colors[trial]}"/>')
        parts.append(text(WIDTH - 102, TOP + 18 * i + 10, f"trial {trial} (#{i + 1})", "start"))
    return svg(WIDTH, HEIGHT, parts, f"{metric} per epoch of the top trials")


def restart_spread(ranked: pd.DataFrame, restart_objectives: dict[str, list[float]], objective: str, top: int) -> str:
    """The objective of every restart of the best ``top`` trials that ran more than once, with their mean."""
    chosen = [t for t in _completed(ranked)["trial"] if len(restart_objectives.get(t, [])) > 1][:top]
    if not chosen:
        return ""
    y = _y_scale([v for t in chosen for v in restart_objectives[t]], HEIGHT)
    step = (WIDTH - LEFT - RIGHT) / len(chosen)
    parts = frame(None, y, "trial (best first)", f"{objective} per restart", WIDTH, HEIGHT)
    for i, trial in enumerate(chosen):
        center = round(LEFT + step * (i + 0.5), 1)
        values = restart_objectives[trial]
        mean = sum(values) / len(values)
        parts.append(f'<line x1="{center}" x2="{center}" y1="{y(min(values))}" y2="{y(max(values))}" class="axis"/>')
        parts.append(f'<line x1="{center - 10}" x2="{center + 10}" y1="{y(mean)}" y2="{y(mean)}" class="best"/>')
        for restart, value in enumerate(values):
            tip = f"trial {trial}, restart {restart}: {fmt(value)}"
            parts.append(point(center, y(value), tip, PALETTE[1], _clipped(y, value)))
        parts.append(text(center, HEIGHT - BOTTOM + 16, trial))
    return svg(WIDTH, HEIGHT, parts, f"spread of {objective} over restarts")


def timeline(runs: Sequence[tuple[str, str, float, float]]) -> str:
    """Which worker trained which trial when: a lane per worker, a bar per training run, in seconds from the start."""
    if not runs:
        return ""
    workers = list(dict.fromkeys(worker for _, worker, _, _ in runs))
    start, end = min(run[2] for run in runs), max(run[3] for run in runs)
    lane = (HEIGHT - TOP - BOTTOM) / len(workers)
    x = Scale(0.0, max(end - start, 1e-3), LEFT, WIDTH - RIGHT)
    y = Scale(0, len(workers), TOP, HEIGHT - BOTTOM)
    parts = [f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" class="bg"/>']
    for tick in x.ticks():
        parts.append(f'<line y1="{TOP}" y2="{HEIGHT - BOTTOM}" x1="{x(tick)}" x2="{x(tick)}" class="grid"/>')
        parts.append(text(x(tick), HEIGHT - BOTTOM + 16, tick))
    parts.append(
        text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 8, "seconds since the first trial started", extra='class="title"')
    )
    for index, worker in enumerate(workers):
        parts.append(text(LEFT - 6, y(index) + lane / 2 + 4, worker or "search", "end"))
    for trial, worker, began, finished in runs:
        index = workers.index(worker)
        left, right = x(began - start), x(finished - start)
        tip = f"trial {trial} on {worker or 'search'}: {fmt(began - start)} s to {fmt(finished - start)} s"
        parts.append(
            f'<rect x="{left}" y="{round(y(index) + lane * 0.15, 1)}" width="{max(round(right - left, 1), 1.0)}"'
            f' height="{round(lane * 0.7, 1)}" fill="{PALETTE[index % len(PALETTE)]}" fill-opacity="0.8">'
            f"<title>{escape(tip)}</title></rect>"
        )
    return svg(WIDTH, HEIGHT, parts, "which worker trained which trial when")


def importance_bars(table: pd.DataFrame) -> str:
    """Horizontal bars of each hyperparameter's importance."""
    if table.empty:
        return ""
    row_height, left = 22, 150
    height = TOP + row_height * len(table) + 10
    x = Scale(0, max(1e-9, float(table["importance"].max())), left, WIDTH - 70)
    parts = []
    for i, (name, value) in enumerate(zip(table["hyperparameter"], table["importance"], strict=True)):
        top = TOP + row_height * i
        parts.append(text(left - 8, top + 14, name, "end"))
        parts.append(f'<rect x="{left}" y="{top + 3}" width="{x(value) - left}" height="14" fill="{PALETTE[0]}"/>')
        parts.append(text(x(value) + 6, top + 14, f"{value:.2f}", "start"))
    return svg(WIDTH, height, parts, "hyperparameter importance")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
