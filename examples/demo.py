"""A two-layer network learns a noisy nonlinear function; the loss printed every 50 steps falls.

Run: python examples/demo.py   (works with `import torch` too: the code is plain PyTorch)
"""

import ember as torch

torch.manual_seed(0)
x = torch.randn(256, 3)
true_w = torch.tensor([[1.5], [-2.0], [0.7]])
y = (x @ true_w).tanh() + 0.05 * torch.randn(256, 1)

w1 = (torch.randn(3, 32) * 0.5).requires_grad_()
b1 = torch.zeros(32, requires_grad=True)
w2 = (torch.randn(32, 1) * 0.2).requires_grad_()
b2 = torch.zeros(1, requires_grad=True)
params = [w1, b1, w2, b2]
lr = 0.1

for step in range(301):
    hidden = (x @ w1 + b1).relu()
    pred = hidden @ w2 + b2
    loss = ((pred - y) ** 2).mean()
    for p in params:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")
