"""The organization's social media directory: a static site (``socialens publish``) and a local
web app with a read-only JSON API (``socialens serve``).

Only people who opted in (``people.opt_in``) are published unless an internal build asks for
everyone; see :mod:`socialens.site.model`, the one place that rule is applied.
"""

from __future__ import annotations

from socialens.site.model import Directory, SiteError, load_directory

__all__ = ["Directory", "SiteError", "load_directory", "publish", "create_app"]


def publish(*args, **kwargs):
    """Build the static site; see :func:`socialens.site.build.publish`."""
    from socialens.site.build import publish as _publish

    return _publish(*args, **kwargs)


def create_app(*args, **kwargs):
    """The FastAPI app; see :func:`socialens.site.app.create_app`."""
    from socialens.site.app import create_app as _create_app

    return _create_app(*args, **kwargs)
