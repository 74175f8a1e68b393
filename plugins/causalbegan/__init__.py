"""Built-in plugin package (causalbegan): the CausalBEGAN image stage.

A BEGAN autoencoder discriminator with a Labeler (Kocaoglu et al. 2018).
"""
