"""Gradient accumulation: every `backward()` adds into `.grad`, so a training loop clears
it with `.grad.zero_()` before the next pass.

From the notes:
- seeds/002, "PyTorch-Notes" > "Autograd", item 15;
- seeds/004, "Gradient Accumulation", In [24] and In [26].
"""

import torch

# --- seeds/002, item 15: always set the gradients of the weights to 0 in a loop ---
weights = torch.ones(4,requires_grad=True)
for epoch in range(3):
    model_output = (weights*3).sum()
    model_output.backward()
    print(weights.grad)
    weights.grad.zero_()

# --- seeds/004, In [24]: gradients accumulate ---
import torch
weights = torch.ones(4, requires_grad=True)
for epoch in range(2):
    model_output = (weights*3).sum()
    model_output.backward()
    print(weights.grad)

# --- In [26]: to remove gradients accumulation ---
import torch
weights = torch.ones(4, requires_grad=True)
for epoch in range(2):
    model_output = (weights*3).sum()
    model_output.backward()
    print(weights.grad)
    weights.grad.zero_() # clears gradients
