"""Built-in label generators, registered as import strings so listing them is cheap."""

import ckgan


@ckgan.hookimpl
def register_label_generators(register):
    register("tabular", "ckgan.tabular:TabularLabelGenerator")
