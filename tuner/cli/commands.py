"""One handler per ``tuner`` subcommand: each calls one library function and prints its result."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tuner.backend.selection import explicit, import_quietly, select
from tuner.errors import STOP_SIGNALS, InputError, SearchInterruptedError, TunerError
from tuner.parallel.cluster import Address
from tuner.rundir import files, layout
from tuner.rundir import format as run_format
from tuner.space.loading import load_spec
from tuner.space.schema import Spec
from tuner.space.yaml_source import YamlDocument


def default_space() -> Path:
    """The bundled digits space, used when ``tuner search`` is given no file."""
    return Path(str(resources.files("tuner.search_spaces") / "digits.yaml"))


@contextlib.contextmanager
def located_in(document: YamlDocument) -> Iterator[None]:
    """Place errors about the space (a key, or bad input) at their line in the space file."""
    try:
        yield
    except TunerError as error:
        if error.file or not (error.key or isinstance(error, InputError)):
            raise
        raise error.located(document.path, document.line_of(error.key)) from None


@contextlib.contextmanager
def space_of(args: argparse.Namespace) -> Iterator[tuple[Spec, Path]]:
    """The space file a command names (or the bundled default), loaded, with its errors located in it."""
    space = args.space or default_space()
    spec, document = load_spec(space)
    with located_in(document):
        yield _with_overrides(spec, args), space


def _with_overrides(spec: Spec, args: argparse.Namespace) -> Spec:
    """The spec with command-line overrides applied, validated again as a whole."""
    # Only the keys the file set: defaults would count as set, and some are refused when set (momentum for adam).
    raw = spec.model_dump(exclude_unset=True)
    if getattr(args, "max_trials", None) is not None:
        raw.setdefault("search", {})["max_trials"] = args.max_trials
    if getattr(args, "max_time", None) is not None:
        raw.setdefault("search", {})["max_time"] = args.max_time
    if getattr(args, "epochs", None) is not None:
        raw.setdefault("training", {})["epochs"] = args.epochs
    if getattr(args, "seed", None) is not None:
        raw["seed"] = args.seed
    if getattr(args, "tensorboard", None):
        raw.setdefault("search", {})["tensorboard"] = True
    return Spec.model_validate(raw)


def _worker_args(args: argparse.Namespace) -> list[str]:
    """The overrides a local worker needs to see the same space as its chief."""
    given = {
        "--runs-dir": str(args.runs_dir.resolve()),
        "--epochs": args.epochs,
        "--seed": args.seed,
        "--backend": args.backend,
    }
    flags = [part for flag, value in given.items() if value is not None for part in (flag, str(value))]
    return [*flags, *(["--tensorboard"] if args.tensorboard else [])]


def search(args: argparse.Namespace, console: Console) -> int:
    """``tuner search`` (in this process, or with local workers) and ``tuner chief``."""
    with space_of(args) as (spec, space):
        args.backend = _backend_of(args, args.runs_dir / spec.name, resuming=not args.overwrite)
        # ``search --workers`` imports the backend once its workers are starting (tuner.parallel.launcher).
        if not args.verbose and getattr(args, "workers", None) is None:
            import_quietly()
        try:
            return _search(args, spec, space, console)
        except KeyboardInterrupt as stop:
            kind = _stopped_by(stop)
            raise kind(_interrupted(args, spec, kind.reason)) from None


def _backend_of(args: argparse.Namespace, run_dir: Path, resuming: bool) -> str:
    """Choose the backend: ``--backend``, else KERAS_BACKEND, else the one a run being resumed started on, else the
    default; a run is never resumed on another (``tuner.engine.resume.check_same_backend``)."""
    if resuming and not explicit(args.backend) and (run_dir / layout.SPACE_FILE).exists():
        return select(run_format.recorded_backend(run_dir), source=str(run_dir))
    return select(args.backend)


def _stopped_by(stop: KeyboardInterrupt) -> type[SearchInterruptedError]:
    """The error for the signal that stopped a command: the stop handler's own signal, else a plain Ctrl-C."""
    return STOP_SIGNALS.get(getattr(stop, "signum", signal.SIGINT), SearchInterruptedError)


def _interrupted(args: argparse.Namespace, spec: Spec, reason: str) -> str:
    """Where a stopped search or chief left its run and the command that resumes it (never with --overwrite)."""
    resume = shlex.join(["tuner", *(arg for arg in args.argv if arg != "--overwrite")])
    return f"{reason}; completed trials are saved in {args.runs_dir / spec.name}; resume with: {resume}"


def _search(args: argparse.Namespace, spec: Spec, space: Path, console: Console) -> int:
    from tuner.cli.progress import TrialProgress

    objective = spec.search.objective
    if not args.quiet:
        within = f" within {_duration(spec.search.max_time)}" if spec.search.max_time else ""
        console.print(
            f"[bold]{spec.name}[/]: {spec.search.algorithm} search, {spec.search.max_trials} trials{within},"
            f" {objective.direction}imising {objective.name}",
            highlight=False,
        )
    progress = None if args.quiet or args.verbose else TrialProgress(console, objective.name)
    with progress or contextlib.nullcontext():
        if args.command == "chief":
            from tuner.parallel.chief import run_chief

            address = Address(args.host, args.port)
            if not args.quiet:
                console.print(f"chief: serving on {address}; start workers with --chief HOST:{args.port}")
            result = run_chief(spec, space.parent, args.runs_dir, address, args.overwrite, args.verbose, progress)
        elif args.workers is not None:
            result = _launch(args, spec, space, console, progress)
        else:
            from tuner.engine.search import run_search

            result = run_search(
                spec, space.parent, args.runs_dir, args.overwrite, args.verbose, progress, args.check_reproducible
            )
    # Imported once the search is over: pandas would delay the local workers' start by about half a second.
    from tuner.reports.terminal import smallest_line, top_table

    console.print(top_table(result.ranked, args.top, title=f"top trials of {spec.name}"))
    ranked = result.ranked.frame
    if "test_loss" in ranked.columns and not ranked.empty:
        best = ranked.iloc[0]
        tested = ", ".join(f"{name} {best[name]:.4g}" for name in ranked.columns if name.startswith("test_"))
        console.print(f"held-out test set, best trial {best['trial']}: {tested}", highlight=False)
    _print_per_class(result.run_dir, console)
    smallest = smallest_line(result.ranked)
    if smallest is not None:
        console.print(smallest, highlight=False)
    if result.stopped_on_time:
        console.print(_stopped_on_time(args, spec, result), highlight=False)
    console.print(
        f"results: {result.run_dir / layout.RESULTS_FILE}  report: {result.run_dir / layout.REPORT_FILE}"
        f"  ({result.seconds:.0f} s)",
        highlight=False,
    )
    if args.command == "search" and args.check_reproducible:
        console.print("[green]reproducible[/]: the best trial trained again gave identical losses")
    return 0


def _duration(seconds: float) -> str:
    """Seconds as a person writes a budget: 90 s, 20 min, 8 h."""
    if seconds >= 3600 and seconds % 360 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 6 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _stopped_on_time(args: argparse.Namespace, spec: Spec, result: Any) -> str:
    """What a search that spent its time budget says, with the command that gives it more."""
    assert spec.search.max_time is not None
    completed = int((result.ranked.frame["status"] == "completed").sum()) if not result.ranked.frame.empty else 0
    more = [arg for arg in args.argv if arg != "--overwrite" and not arg.startswith("--max-time=")]
    if "--max-time" in more:
        del more[more.index("--max-time") : more.index("--max-time") + 2]
    more += ["--max-time", f"{2 * spec.search.max_time:g}s"]
    return (
        f"stopped on time: the {_duration(spec.search.max_time)} budget is spent, {completed} trial(s) completed"
        f" of {spec.search.max_trials}; to go on, raise it: {shlex.join(['tuner', *more])}"
    )


def _launch(args: argparse.Namespace, spec: Spec, space: Path, console: Console, progress: Any) -> Any:
    """``tuner search --workers``: plan the local workers and run the search through them."""
    from tuner.backend.devices import visible_gpus
    from tuner.parallel import cluster
    from tuner.parallel.launcher import run_parallel

    gpus = visible_gpus()
    trials = None if spec.search.algorithm == "hyperband" else spec.search.max_trials
    count = None if args.workers == "auto" else args.workers
    slots = cluster.plan_workers(count, args.threads, cluster.usable_cores(), gpus, trials)
    if not args.quiet:
        where = f"{len(gpus)} GPU(s)" if gpus else f"{args.threads} thread(s) each"
        console.print(f"{len(slots)} worker(s), {where}", highlight=False)
    return run_parallel(
        spec, space, args.runs_dir, slots, _worker_args(args), args.overwrite, args.verbose, progress, console.print
    )


def worker(args: argparse.Namespace, console: Console) -> int:
    """``tuner worker``: join a chief and train the trials it hands out until it says stop."""
    from tuner.parallel.cluster import LOCAL_WORKER, default_tuner_id

    with space_of(args) as (spec, space):
        _backend_of(args, args.runs_dir / spec.name, resuming=True)
        if not args.verbose:
            import_quietly()
        from tuner.parallel.worker import run_worker

        tuner_id = args.id or default_tuner_id(os.environ)
        try:
            run_worker(
                spec,
                space.parent,
                args.runs_dir,
                args.chief,
                tuner_id,
                args.threads,
                args.verbose,
                chief_lost_seconds=args.chief_lost_after,
            )
        except KeyboardInterrupt as stop:
            kind = _stopped_by(stop)
            if LOCAL_WORKER in os.environ:  # stopped with its launcher, which says so in one line
                return kind.exit_code
            raise kind(
                f"{kind.reason}; any trial it was training is run again when a worker with id {tuner_id}"
                " next asks the chief for one"
            ) from None
    return 0


def validate(args: argparse.Namespace, console: Console) -> int:
    """``tuner validate``: the space's hyperparameters, data, model sizes and grid, without training."""
    select(args.backend)
    with space_of(args) as (spec, space):
        import_quietly()
        from tuner.engine.validate import check_space

        check = check_space(spec, space.parent)
    table = Table(title=f"{spec.name}: hyperparameters", header_style="bold")
    for header in ("name", "type", "values", "active when"):
        table.add_column(header)
    for row in check.hyperparameters:
        table.add_row(row.name, row.kind, row.values, row.condition)
    console.print(table)
    console.print(
        f"data: {check.samples} images of shape {check.input_shape}, {len(check.class_counts)} classes\n"
        f"classes: {', '.join(f'{name} {count:,}' for name, count in check.class_counts.items())}\n"
        f"models: {check.smallest_params:,} parameters (smallest) to {check.largest_params:,} (largest)",
        highlight=False,
    )
    if check.grid_size is not None:
        console.print(f"grid: {check.grid_size:,} combinations", highlight=False)
    console.print(f"[green]ok[/]: {space} is a valid space")
    return 0


def schema(args: argparse.Namespace, console: Console) -> int:
    """``tuner schema``: the space file's JSON Schema (draft 2020-12), for editors' completion and checking."""
    from tuner.space.json_schema import space_json_schema_text

    sys.stdout.write(space_json_schema_text())
    return 0


def report(args: argparse.Namespace, console: Console) -> int:
    """Rank a run, write both reports and print the top trials; never imports a backend."""
    from tuner.reports.terminal import as_text, top_table
    from tuner.reports.writer import is_live, write_reports

    csv_path, html_path = args.csv or args.run_dir / layout.RESULTS_FILE, args.html or args.run_dir / layout.REPORT_FILE
    # A search still running keeps its report live; rewriting it must not make it still.
    ranked = write_reports(args.run_dir, args.csv, args.html, live=is_live(html_path))
    if args.format == "html":
        sys.stdout.write(html_path.read_text(encoding="utf-8"))
    elif args.format != "table":
        sys.stdout.write(as_text(ranked, args.top, args.format))
    else:
        console.print(top_table(ranked, args.top, title=f"top trials of {args.run_dir}"))
        _print_per_class(args.run_dir, console)
        console.print(f"results: {csv_path}  report: {html_path}", highlight=False, markup=False)
    if args.serve:
        _serve(args.run_dir, args.port, console)
    return 0


def _serve(run_dir: Path, port: int, console: Console) -> None:
    """Serve the run directory until Ctrl-C; a live report in it reloads itself as the search goes on."""
    from tuner.reports.serve import report_server

    with report_server(run_dir, port) as server:
        host, bound = server.server_address[:2]
        console.print(
            f"serving http://{host}:{bound}/{layout.REPORT_FILE} (this machine only); Ctrl-C stops", highlight=False
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("stopped serving", highlight=False)


def _print_per_class(run_dir: Path, console: Console) -> None:
    """The best trial's per-class line under the top trials, once the search has recorded per-class results."""
    from tuner.reports.per_class import load_per_class
    from tuner.reports.terminal import per_class_line

    per_class = load_per_class(run_dir)
    if per_class is not None:
        console.print(per_class_line(per_class), highlight=False, markup=False)


def compare(args: argparse.Namespace, console: Console) -> int:
    """Print the best trial of each run, best run first."""
    from tuner.reports.compare import best_of_runs
    from tuner.reports.terminal import as_text, top_table

    table = best_of_runs(args.run_dirs)
    if args.format != "table":
        sys.stdout.write(as_text(table, len(table.frame), args.format))
        return 0
    title = f"best trial of each run, by {table.objective}"
    console.print(top_table(table, len(table.frame), title=title, leading=("run", "trials", "completed")))
    return 0


def export(args: argparse.Namespace, console: Console) -> int:
    """Save the chosen trial's model and the YAML that retrains it, or list the Pareto front to choose from."""
    if args.pareto:
        from tuner.reports.ranking import rank
        from tuner.reports.records import load_trials
        from tuner.reports.terminal import pareto_table

        console.print(pareto_table(rank(load_trials(args.run_dir))))
        console.print(f"export one with: tuner export {shlex.quote(str(args.run_dir))} --rank RANK", highlight=False)
        return 0
    if args.output.suffix != ".keras":
        raise InputError(f"--output must end in .keras (got {args.output})")
    select(args.backend)
    import_quietly()
    from tuner.engine.export import export_trial

    exported = export_trial(args.run_dir, args.rank, args.output)
    console.print(
        f"trial {exported.trial} ({exported.params:,} parameters): model {exported.model_path},"
        f" space {exported.space_path}",
        highlight=False,
    )
    return 0


def predict(args: argparse.Namespace, console: Console) -> int:
    """Each image's predicted class and the class probabilities, as CSV on stdout or in ``--output``."""
    select(args.backend)
    import_quietly()
    from tuner.engine.predict import as_csv, image_files, load_predictor, predict_files

    predictor = load_predictor(args.model)
    frame = predict_files(predictor, image_files(args.images))
    if args.output is None:
        sys.stdout.write(as_csv(frame))
        return 0
    files.write_atomic(args.output, as_csv(frame))
    counts = frame["predicted"].value_counts().reindex(predictor.class_names).dropna()
    summary = ", ".join(f"{name} {int(count):,}" for name, count in counts.items())
    console.print(f"{len(frame):,} images: {summary}; predictions: {args.output}", highlight=False)
    return 0
