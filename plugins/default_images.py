"""Built-in image stages, registered as import strings so listing them imports no Keras."""

import ckgan


@ckgan.hookimpl
def register_image_stages(register):
    register("causalgan", "ckgan_plugins.causalgan.causal_gan_stage:CausalGANStage")
    register("causalbegan", "ckgan_plugins.causalbegan.causal_began_stage:CausalBEGANStage")
