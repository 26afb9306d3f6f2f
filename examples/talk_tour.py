"""A runnable tour of the talk's snippets, in the PyTorch 2 forms that work today.

1. The RNN cell built from ``Variable``s, and why its last line must change in PyTorch 2.
2. ``grad(grad(grad(grad(grad(grad(torch.norm(x)))))))``: sixth-order derivatives by
   repeating ``torch.autograd.grad(..., create_graph=True)``.
3. Dynamic graphs: Python control flow decides the graph on every call.
4. Broadcasting, and how autograd sums gradients back to an input's shape.
5. Advanced indexing: integer arrays, boolean masks, assignment, and the gradients.

Run: ``python examples/talk_tour.py``. The code is ordinary PyTorch: ``import torch`` in
place of ``import ember as torch`` prints the same thing (up to random values).
"""

from __future__ import annotations

import ember as torch
from ember.autograd import Variable


def section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def rnn_cell() -> dict:
    """The talk's RNN cell, as written, then in the form PyTorch 2 accepts."""
    section("1. The RNN cell with Variable")
    x = Variable(torch.randn(1, 10))
    prev_h = Variable(torch.randn(1, 20))
    W_h = Variable(torch.randn(20, 20))
    W_x = Variable(torch.randn(20, 10))

    i2h = torch.mm(W_x, x.t())
    h2h = torch.mm(W_h, prev_h.t())
    next_h = i2h + h2h
    next_h = next_h.tanh()
    print("next_h:", tuple(next_h.shape), "(W_x @ x.t() is (20, 10) @ (10, 1): a column)")

    # As printed in the talk, the last line is `next_h.backward(torch.ones(1, 20))`. In
    # PyTorch 2 it fails twice over: `Variable(t)` is now just `t` (a Tensor that does not
    # require grad, so there is no graph to run backward through), and next_h is (20, 1),
    # so the gradient handed to backward must be (20, 1) too.
    errors = []
    try:
        next_h.backward(torch.ones(1, 20))
    except RuntimeError as e:
        errors.append(str(e).splitlines()[0])
        print("as written:      ", errors[-1])

    # The working form: ask for gradients when creating the leaves, match next_h's shape.
    x = torch.randn(1, 10, requires_grad=True)
    prev_h = torch.randn(1, 20, requires_grad=True)
    W_h = torch.randn(20, 20, requires_grad=True)
    W_x = torch.randn(20, 10, requires_grad=True)
    next_h = (torch.mm(W_x, x.t()) + torch.mm(W_h, prev_h.t())).tanh()
    try:
        next_h.backward(torch.ones(1, 20), retain_graph=True)
    except RuntimeError as e:
        errors.append(str(e).splitlines()[0])
        print("with requires_grad:", errors[-1])
    next_h.backward(torch.ones(20, 1))  # or torch.ones_like(next_h), or next_h.sum().backward()
    print("modern form: W_h.grad", tuple(W_h.grad.shape), " x.grad", tuple(x.grad.shape))
    # Check one gradient by hand: d sum(tanh(a)) / dx = W_x^T (1 - tanh(a)^2).
    expected = (W_x.t() @ (1 - next_h.detach() ** 2)).t()
    err = (x.grad - expected).abs().max().item()
    print(f"x.grad matches W_x^T (1 - next_h^2): max error {err:.1e}")
    return {"next_h_shape": tuple(next_h.shape), "x_grad_error": err, "errors": errors}


def grad(f):
    """The talk's ``grad`` as a function transform: ``grad(f)(x)`` is d sum(f(x)) / dx.

    ``create_graph=True`` records the backward pass itself, so the result can be
    differentiated again, and ``grad(grad(f))`` works to any order.

    Example:
        >>> grad(lambda x: x ** 3)(torch.tensor([2.0], requires_grad=True))
        tensor([12.], grad_fn=<MulBackward0>)
    """
    def df(x):
        (g,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
        return g
    return df


def higher_order() -> dict:
    """Sixth-order derivatives of the Euclidean norm, as nested function transforms."""
    section("2. grad(grad(grad(grad(grad(grad(torch.norm(x)))))))")
    x = torch.tensor([0.6, -0.8, 1.5], dtype=torch.float64, requires_grad=True)
    # The same thing spelled as repeated calls:
    #   y = torch.norm(x)
    #   for _ in range(6): (y,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    d6 = grad(grad(grad(grad(grad(grad(torch.norm))))))(x)
    print("6th derivative:", [round(v, 6) for v in d6.tolist()])

    # Check the first two orders against the closed forms: grad |x| = x / |x| and
    # grad sum(x / |x|) = 1 / |x| - x * sum(x) / |x|^3.
    n = torch.norm(x).item()
    xs = x.detach()
    d1 = grad(torch.norm)(x)
    d2 = grad(grad(torch.norm))(x)
    err1 = (d1 - xs / n).abs().max().item()
    err2 = (d2 - (1 / n - xs * xs.sum() / n ** 3)).abs().max().item()
    print(f"orders 1 and 2 match the closed forms: errors {err1:.1e}, {err2:.1e}")

    # And order 6 against a central finite difference of order 5 along each axis.
    d5 = grad(grad(grad(grad(grad(torch.norm)))))
    h = 1e-4
    fd = []
    for i in range(3):
        e = torch.zeros(3, dtype=torch.float64)
        e[i] = h
        xp = (xs + e).requires_grad_()
        xm = (xs - e).requires_grad_()
        fd.append(((d5(xp) - d5(xm)).sum() / (2 * h)).item())
    err6 = max(abs(a - b) for a, b in zip(d6.tolist(), fd))
    print(f"order 6 matches a finite difference of order 5: max error {err6:.1e}")
    return {"d6": d6.tolist(), "err1": err1, "err2": err2, "err6": err6}


def dynamic_graph() -> dict:
    """The graph is whatever the Python code did this time: loops, ifs, recursion."""
    section("3. Dynamic graphs")
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    steps = 1
    while y.norm() < 1000:           # how many doublings depends on the data
        y = y * 2
        steps += 1
    out = y.sum() if y.sum() > 0 else -y.sum()   # so does the sign
    out.backward()
    print(f"the loop doubled x {steps} times; x.grad = {x.grad.tolist()} = "
          f"{'+' if y.sum() > 0 else '-'}2**{steps}")
    return {"steps": steps, "x_grad": x.grad.tolist(), "positive": bool(y.sum() > 0)}


def broadcasting() -> dict:
    """NumPy-style broadcasting, and gradients summed back to each input's shape."""
    section("4. Broadcasting")
    col = torch.arange(3.0).reshape(3, 1)
    row = torch.arange(4.0)
    table = col * 10 + row
    print("(3, 1) * 10 + (4,) ->", tuple(table.shape))
    print(table)

    x = torch.randn(8, 3)
    mean, std = x.mean(0), x.std(0)  # (3,)
    z = (x - mean) / std             # (8, 3) op (3,): each column standardised
    print("standardised columns: means", [round(v, 6) + 0.0 for v in z.mean(0).tolist()])

    bias = torch.zeros(3, requires_grad=True)
    (x + bias).sum().backward()      # bias was broadcast over 8 rows ...
    print("bias.grad (summed over the broadcast rows):", bias.grad.tolist())
    return {"table_shape": tuple(table.shape), "bias_grad": bias.grad.tolist()}


def indexing() -> dict:
    """Integer-array and boolean-mask indexing, index assignment, and their gradients."""
    section("5. Advanced indexing")
    x = torch.arange(12.0).reshape(3, 4)
    print("x[[0, 2]]          ->", x[[0, 2]].tolist())
    print("x[[0, 2], [1, 3]]  ->", x[[0, 2], [1, 3]].tolist(), "(pairs (0,1) and (2,3))")
    print("x[:, [3, 0]]       ->", x[:, [3, 0]].tolist())
    print("x[x % 5 == 0]      ->", x[x % 5 == 0].tolist())

    y = x.clone()
    y[y > 8] = -1                      # masked assignment, in place
    y[torch.tensor([0, 0]), torch.tensor([0, 1])] += 100
    print("after y[y > 8] = -1 and y[[0, 0], [0, 1]] += 100:", y.tolist())

    w = torch.ones(5, requires_grad=True)
    idx = torch.tensor([0, 1, 1, 4, 1])
    (w[idx] * torch.arange(1.0, 6.0)).sum().backward()
    # Gathered entries that repeat get their gradients added: w[1] was used 3 times.
    print("w[idx] with idx =", idx.tolist(), "-> w.grad =", w.grad.tolist())

    acc = torch.zeros(3).index_put_((torch.tensor([0, 2, 0]),), torch.tensor([1.0, 2.0, 3.0]),
                                    accumulate=True)
    print("index_put_ with accumulate=True:", acc.tolist())
    return {"w_grad": w.grad.tolist(), "acc": acc.tolist(), "y": y.tolist()}


def main(argv: list[str] | None = None) -> dict:
    """Run every section and return what each computed (the smoke test checks it).

    Args:
        argv: unused; accepted so every example has the same entry point.

    Example:
        >>> main()["higher_order"]["err2"] < 1e-12  # doctest: +SKIP
        True
    """
    torch.manual_seed(0)
    results = {"rnn_cell": rnn_cell(), "higher_order": higher_order(),
               "dynamic_graph": dynamic_graph(), "broadcasting": broadcasting(),
               "indexing": indexing()}
    print("\nTour done.")
    return results


if __name__ == "__main__":
    main()
