"""Simulated organizations with planted leader effects: ground truth for every estimator, and the
organizations of any size the scale benchmark runs on.

>>> import socialens, tempfile, os
>>> d = tempfile.mkdtemp()
>>> r = socialens.simulate(people=200, seed=1, preset="null", out=os.path.join(d, "org.duckdb"))
>>> ws = socialens.open(r.workspace)
>>> ws.count("people"), ws.count("sim_truth_people")
(200, 200)
>>> ws.close()

See ``docs/simulation.md`` for the model, the presets and the ground-truth tables.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from socialens.simulate.config import (
    PRESETS,
    SimConfig,
    SimulationError,
    load_config_file,
    make_config,
)

__all__ = ["simulate", "SimConfig", "PRESETS", "make_config", "SimulationResult", "SimulationError",
           "TRUTH_TABLES", "load_truth"]

_LAZY = {"SimulationResult", "TRUTH_TABLES", "load_truth"}


def __getattr__(name: str):  # heavy modules (numpy, pandas, pyarrow) load on first use
    if name in _LAZY:
        from socialens.simulate import generate as _generate

        return getattr(_generate, name)
    raise AttributeError(f"module 'socialens.simulate' has no attribute {name!r}")


def simulate(
    people: int | None = None,
    seed: int = 0,
    *,
    preset: str | None = None,
    config: SimConfig | dict[str, Any] | str | Path | None = None,
    out: str | Path | None = None,
    files: str | Path | None = None,
    ingest: bool = True,
    progress: Callable[[str], None] | None = None,
    **overrides: Any,
) -> SimulationResult:  # noqa: F821 - lazily imported
    """Generate a simulated organization and (by default) ingest it into a workspace.

    Parameters
    ----------
    people : int, optional
        Number of people (overrides the preset's).
    seed : int
        The only source of randomness: the same seed and parameters give byte-identical files.
    preset : str, optional
        A named preset (``socialens.simulate.PRESETS``); default ``"default"``.
    config : SimConfig, dict, or path of a JSON/YAML file, optional
        A full config, or parameter overrides applied on top of the preset.
    out : path, optional
        Workspace to create or add to. Without it only the files are written.
    files : path, optional
        Folder for the canonical files and ``sim_truth/*.parquet``; default ``<out>.sim/`` next to the
        workspace (required when ``out`` is not given).
    ingest : bool
        Load the files into ``out`` through the normal canonical ingest, then the ground truth.
    **overrides
        Further parameters of :class:`SimConfig`.

    Returns
    -------
    SimulationResult
    """
    if isinstance(config, SimConfig):
        cfg = config.replace(**overrides) if overrides else config.validate()
        if preset is not None and preset != cfg.preset:
            raise SimulationError("give either a SimConfig or a preset, not both")
    else:
        extra = {}
        if isinstance(config, str | Path):
            extra = load_config_file(config)
        elif isinstance(config, dict):
            extra = dict(config)
        elif config is not None:
            raise SimulationError(f"config must be a SimConfig, a dict or a file path, not {config!r}")
        base = extra.pop("preset", None) if preset is None else preset
        cfg = make_config(base, **{**extra, **overrides})
    if people is not None:
        cfg = cfg.replace(people=int(people))
    if files is None:
        if out is None:
            raise SimulationError("say where to write: out=WORKSPACE and/or files=FOLDER")
        files = Path(str(out)).with_suffix(".sim")
    from socialens.simulate.generate import generate, load_truth

    result = generate(cfg, seed, files, progress=progress)
    if out is not None and ingest:
        import time

        import socialens

        t0 = time.perf_counter()
        ws = socialens.open(out)
        try:
            if progress:
                progress("ingest")
            report = ws.ingest(files)
            result.seconds["ingest"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            load_truth(ws, files)
            result.seconds["load_truth"] = time.perf_counter() - t0
        finally:
            ws.close()
        bad = report.totals["quarantined"]
        if bad:
            raise SimulationError(
                f"{bad} simulated records were quarantined on ingest (a generator bug); see the "
                f"quarantine table of {out}"
            )
        result.workspace = Path(out)
    return result
