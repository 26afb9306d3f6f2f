"""``ember.func``: composable function transforms (PyTorch's ``torch.func``).

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd``,
``hessian``, ``functional_call``, ``stack_module_state`` and ``vmap``. Transforms nest:
``vmap(grad(loss))`` gives per-example gradients, ``jacrev(jacrev(f))`` second derivatives.
Design: NOTE [ Transform levels on one tape ], NOTE [ Forward mode by double vjp ]
(``_eager.py``), NOTE [ vmap as batched arrays ] (``_batched.py``), NOTE [ vmap on the
dispatch spine ] (``_vmap.py``), NOTE [ Swapping module state ] (``_functional_call.py``).

Example::

    >>> import ember
    >>> from ember.func import grad, vmap
    >>> xs = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> vmap(grad(lambda x: (x ** 2).sum()))(xs).tolist()
    [[2.0, 4.0], [6.0, 8.0]]
"""

from ember.func._eager import (grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize,
                               vjp)
from ember.func._functional_call import functional_call, stack_module_state
from ember.func._vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "linearize", "stack_module_state", "vjp", "vmap"]
