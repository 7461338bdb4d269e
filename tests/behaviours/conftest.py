"""Fixtures of the behaviour tests (the literal organization of ``literal_org``)."""

from tests.behaviours.literal_org import org  # noqa: F401 - a fixture
