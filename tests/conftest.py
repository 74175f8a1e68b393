"""Shared test set-up: no third-party plugins unless a test asks, a private cache."""

import pytest

from ckgan import plugins


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path_factory):
    # The tox env installs fixture plugins (one broken, one duplicating a name):
    # each test opts in to the ones it wants with CKGAN_LOAD_PLUGINS.
    monkeypatch.setenv("CKGAN_LOAD_PLUGINS", "")
    monkeypatch.setenv("CKGAN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    plugins.reset()
    yield
    plugins.reset()
