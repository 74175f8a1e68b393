"""Built-in plugin package (wgan): the neural label generators of the label stage.

``WGANLabelGenerator`` (kind ``wgan``, CausalGAN's causal controller) and
``GumbelLabelGenerator`` (kind ``gumbel``, hard 0/1 nodes), built from
``CausalController``, ``LabelCritic`` and the ``WGANGP`` training model. They
are registered by import string, so importing this package imports no Keras.
"""
