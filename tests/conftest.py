"""Shared test set-up: no third-party plugins unless a test asks, a private cache."""

import pytest

from ckgan import plugins


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    # Session-wide, so that module-scoped fixtures (a judge, a trained model) are
    # set up inside it too: they run before the per-test fixture below, and used
    # to read and write the user's own cache (a judge trained by older code).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CKGAN_LOAD_PLUGINS", "")
        patch.setenv("CKGAN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        yield


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path_factory):
    # The tox env installs fixture plugins (one broken, one duplicating a name):
    # each test opts in to the ones it wants with CKGAN_LOAD_PLUGINS.
    monkeypatch.setenv("CKGAN_LOAD_PLUGINS", "")
    monkeypatch.setenv("CKGAN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    plugins.reset()
    yield
    plugins.reset()
