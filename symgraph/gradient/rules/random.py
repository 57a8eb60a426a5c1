"""Random draws pass no gradient to their parameters (as in Theano): a sample is treated as
a constant of the cost. (Reparameterised sampling is written by hand: loc + scale * normal().)"""

from __future__ import annotations

from symgraph.gradient.rules import mark_non_differentiable
from symgraph.tensor.random import RandomDraw

mark_non_differentiable(RandomDraw, reason="a random draw: no gradient flows to its parameters")
