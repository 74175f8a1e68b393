"""``ckgan.options``: one resolver of presets and ``KEY=VALUE`` options for every plugin."""

import pytest

from ckgan.errors import CkganError
from ckgan.options import resolve


class Plugin:
    presets = {
        "quick": {"steps": 100, "rate": 1e-3, "hidden": [8, 8], "norm": "none", "ema": True},
        "paper": {"steps": 1000, "rate": 2e-4, "hidden": [64], "norm": "layer", "ema": True},
    }
    option_ranges = {"steps": "[1, inf)", "rate": "(0, inf)", "norm": ("none", "layer")}

    def __init__(self, steps=None, rate=None, jit_compile="auto", **extra):
        pass


def test_preset_then_given_then_extra_each_converted_to_the_preset_type():
    options = resolve(Plugin, "paper", {"steps": None, "rate": 1}, {"hidden": [4]}, "test")
    assert options == {
        "preset": "paper", "steps": 1000, "rate": 1.0, "hidden": [4], "norm": "layer",
        "ema": True,
    }  # fmt: skip
    assert isinstance(options["rate"], float)


@pytest.mark.parametrize(
    "preset, given, extra, message",
    [
        ("fast", {}, {}, "unknown preset 'fast' for the test (known: quick, paper)"),
        ("quick", {}, {"stpes": 3}, "unknown option 'stpes' for the test (known: ema, hidden"),
        ("quick", {"steps": 0}, {}, "option steps=0 of the test is out of range: it must be in"),
        ("quick", {"rate": "fast"}, {}, "option rate='fast' of the test: expected a number"),
        ("quick", {}, {"norm": "batch"}, "option norm='batch' of the test: expected one of"),
        ("quick", {}, {"hidden": [0]}, "option hidden=[0] of the test: expected a list"),
        ("quick", {}, {"ema": 1}, "option ema=1 of the test: expected true or false"),
    ],
)
def test_bad_input_names_the_option_and_what_is_expected(preset, given, extra, message):
    with pytest.raises(CkganError) as error:
        resolve(Plugin, preset, given, extra, "test")
    assert message in str(error.value)


def test_the_built_in_plugins_resolve_through_it():
    from ckgan_plugins.causalgan.causal_gan_stage import CausalGANStage

    from ckgan.errors import CkganError as Error

    with pytest.raises(
        Error, match="discriminator_norm='batch' .* expected one of 'none', 'layer'"
    ):
        CausalGANStage(["A"], discriminator_norm="batch")
    with pytest.raises(Error, match=r"width=0 .* must be in \[1, inf\)"):
        CausalGANStage(["A"], width=0)
    assert CausalGANStage(["A"], width=16).options["width"] == 16
