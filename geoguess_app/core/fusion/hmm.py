"""Forward-backward over each photo's own set of candidate cells (a hidden-Markov model whose
hidden state is the cell a photo was taken in, whose observations are the evidence of each photo,
and whose transitions are the travel model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from .evidence import normalised

Array = npt.NDArray[np.floating[Any]]

KEEP_TRANSITIONS = 400  # chains up to this long keep their transition matrices (about 100 KB each)


def forward_backward(emissions: list[Array], transition: Callable[[int], Array]) -> list[Array]:
    """The posterior over each step's states given every step's evidence.

    ``emissions[i]``: the evidence of step i over its states. ``transition(i)``: the matrix from the
    states of step i (rows) to those of step i + 1. Each message is normalised as it goes, so long
    chains do not underflow. The transitions of a long chain are computed twice (forward, backward)
    rather than all kept.
    """
    n = len(emissions)
    if n == 0:
        return []
    keep = n <= KEEP_TRANSITIONS
    kept: list[Array] = []
    alpha = [normalised(emissions[0])]
    for i in range(1, n):
        matrix = transition(i - 1)
        if keep:
            kept.append(matrix)
        alpha.append(normalised(emissions[i] * (alpha[-1] @ matrix)))
    posterior: list[Array] = [alpha[-1]] * n
    beta: Array = np.ones(len(emissions[-1]))
    for i in range(n - 2, -1, -1):
        matrix = kept[i] if keep else transition(i)
        beta = normalised(matrix @ (emissions[i + 1] * beta))
        posterior[i] = normalised(alpha[i] * beta)
    return posterior
