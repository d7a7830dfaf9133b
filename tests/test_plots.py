import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

from tuner.reports import plots
from tuner.reports.importance import importance
from tuner.reports.ranking import rank
from tuner.reports.records import load_run
from tuner.testing.rundirs import choice, digits_space, random_trials, write_run

HOSTILE = "<script>alert(1)</script>"


def _run(tmp_path: Path, restarts: int = 2):
    space = [*digits_space(), choice("activation", ["relu", HOSTILE])]
    trials = random_trials(12, restarts=restarts, space=space)
    trials[0].values["activation"] = HOSTILE
    run = load_run(write_run(tmp_path / "run", trials, space=space, restarts=restarts))
    return run, rank(run.trials).frame


def _parsed(svg: str) -> ET.Element:
    assert svg.startswith("<svg")
    return ET.fromstring(svg)


def test_every_plot_is_well_formed_svg(tmp_path: Path):
    run, ranked = _run(tmp_path)
    drawn = [
        plots.objective_per_trial(ranked, "val_loss", "min"),
        plots.parallel_coordinates(ranked, run.hyperparameters, "val_loss"),
        plots.learning_curves(ranked, run.histories, "val_loss", 5),
        plots.restart_spread(ranked, run.restart_objectives, "val_loss", 10),
        plots.importance_bars(importance(run.trials)),
        *(plots.objective_vs_hyperparameter(ranked, item, "val_loss") for item in run.hyperparameters[:6]),
    ]
    for svg in drawn:
        _parsed(svg)


def test_the_best_so_far_line_only_improves(tmp_path: Path):
    _, ranked = _run(tmp_path)
    root = _parsed(plots.objective_per_trial(ranked, "val_loss", "min"))
    line = root.find("{http://www.w3.org/2000/svg}polyline")
    heights = [float(point.split(",")[1]) for point in line.get("points").split()]
    # The y axis grows upwards, so a falling loss moves down the page (larger y) and never back up.
    assert all(later >= earlier for earlier, later in itertools.pairwise(heights))
    assert heights[-1] > heights[0]
    assert (
        len(root.findall("{http://www.w3.org/2000/svg}circle")) + len(root.findall("{http://www.w3.org/2000/svg}path"))
        == 12
    )


def test_data_strings_are_escaped_inside_plots(tmp_path: Path):
    run, ranked = _run(tmp_path)
    item = next(item for item in run.hyperparameters if item["config"]["name"] == "activation")
    svg = plots.objective_vs_hyperparameter(ranked, item, "val_loss")
    assert HOSTILE not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert HOSTILE not in plots.parallel_coordinates(ranked, run.hyperparameters, "val_loss")


def test_restart_spread_is_drawn_only_when_trials_restarted(tmp_path: Path):
    run, ranked = _run(tmp_path, restarts=1)
    assert plots.restart_spread(ranked, run.restart_objectives, "val_loss", 10) == ""


def test_log_scale_ticks_are_decades():
    scale = plots.Scale(1e-4, 1e-1, 0, 100, log=True)
    assert scale.ticks() == [1e-4, 1e-3, 1e-2, 1e-1]
    assert scale(1e-4) == 0 and scale(1e-1) == 100 and scale(1e-2) == 66.7


def test_a_few_diverged_values_are_clipped_out_of_the_range():
    lo, hi = plots.robust_range([0.1 * i for i in range(1, 20)] + [1e6])
    assert hi < 10
    assert lo < 0.1


def test_integer_axes_have_whole_ticks():
    assert plots.Scale(1, 2, 0, 100, integer=True).ticks() == [1, 2]
    assert plots.Scale(1, 40, 0, 100, integer=True).ticks() == [10, 20, 30, 40]
