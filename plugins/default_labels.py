"""Built-in label generators, registered as import strings so listing them is cheap."""

import ckgan


@ckgan.hookimpl
def register_label_generators(register):
    register("wgan", "ckgan_plugins.wgan.wgan_label_generator:WGANLabelGenerator")
    register("gumbel", "ckgan_plugins.wgan.gumbel_label_generator:GumbelLabelGenerator")
    register("tabular", "ckgan.tabular:TabularLabelGenerator")
