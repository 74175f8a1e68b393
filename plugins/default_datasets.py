"""Built-in datasets: the embedded synthetic faces and CelebA, as import strings."""

import ckgan


@ckgan.hookimpl
def register_datasets(register):
    register("synthfaces", "ckgan_plugins.synthfaces.synth_faces:SynthFaces")
    register("celeb_a", "ckgan_plugins.celeba.celeb_a:CelebA")
