"""Dense layers shared by the networks: activations by name and the MLP."""

import math

from torch import nn

ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


def mlp(sizes, activation, dtype):
    """Affine layers between consecutive ``sizes``, ``activation`` between them.

    The weights are left uninitialised; :func:`reset_linear` draws them.
    """
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if i:
            layers.append(ACTIVATIONS[activation]())
        layers.append(nn.utils.skip_init(nn.Linear, n_in, n_out, dtype=dtype))
    return nn.Sequential(*layers)


def reset_linear(layer, generator):
    """PyTorch's default initialisation of ``layer`` (an ``nn.Linear``), drawn
    from ``generator``."""
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    if layer.bias is not None:
        bound = 1.0 / math.sqrt(layer.in_features)
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
