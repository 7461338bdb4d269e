"""SociaLens: do an organization's leaders model social media behaviour, and do its members follow?

The public Python API::

    import socialens
    ws = socialens.open("org.duckdb")          # create or open a workspace
    ws.ingest("canonical_folder/")            # load files, with provenance and quarantine
    r = socialens.analyses.directory(ws, snapshot="2017-08-01")
    r.summary, r.tables["ranking"], r.to_html()
"""

from __future__ import annotations

__version__ = "0.1.0"

from socialens.errors import SocialensError  # noqa: E402
from socialens.workspace import Workspace, open_workspace  # noqa: E402

__all__ = ["__version__", "open", "Workspace", "SocialensError"]


def open(path=None, *, read_only: bool = False, engine: str = "duckdb", spark=None):  # noqa: A001
    """Open (or create) the workspace at ``path``; see :class:`socialens.workspace.Workspace`.

    ``engine="spark"``: ``path`` is a lake (:mod:`socialens.lake`, a local folder or a Hadoop
    URI) read by Spark (``spark``: a session; default a local one), a read-only
    :class:`socialens.spark.SparkWorkspace` that every analysis takes in place of a workspace.
    """
    if engine == "spark":
        from socialens.spark import SparkWorkspace

        if path is None:
            raise SocialensError("the Spark engine reads a lake: give its folder or URI")
        return SparkWorkspace(path, spark=spark)
    if engine != "duckdb":
        raise SocialensError(f"unknown engine {engine!r}; use duckdb or spark")
    return open_workspace(path, read_only=read_only)


from socialens.simulate import simulate  # noqa: E402  (the function; cheap: numpy/pandas load lazily)

__all__ += ["simulate"]
