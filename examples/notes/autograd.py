"""Autograd: `requires_grad`, the graph that operations record (`grad_fn`), `backward()`
with and without a `gradient` argument, `.grad`, and switching tracking off with
`requires_grad_(False)`, `detach()` and `no_grad()`.

From the notes:
- seeds/000, "Autograd" (the notes repeat this cell; it is ported once);
- seeds/001, "Important Stuff" > "Tensors", In [4], In [11], In [None], In [7], In [14];
- seeds/002, "PyTorch-Notes" > "Autograd", items 13 and 14;
- seeds/004, "Autograd", In [8] to In [12], and the forward propagation In [19], In [17],
  In [20] and In [21] (In [17] and In [21] hold only comments).

Expressions that a notebook would display are wrapped in `print(...)`.
"""

import torch

# --- seeds/000, "Autograd" ---
import torch
x = torch.randn(3, requires_grad=True)
y = x + 2
z = 2 * y * y
z.backward(torch.tensor([0.01, 0.01, 0.02], dtype=torch.float32))
print(x.grad)
x.requires_grad_(False) # or True

# --- seeds/001, In [4] ---
# “Track all operations on this tensor so we can compute derivatives later.”
x = torch.tensor([[2., 3.]], requires_grad=True)

# --- In [11] ---
import torch

# Step 1: Create tensor with grad tracking
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)

# Step 2: Do some operations
y = x ** 2 + 3
z = y.mean()  # scalar output required for backward()

# Step 3: Backpropagate
z.backward()

print("x:", x)
print("Gradient of x:", x.grad)

# --- In [None] ---
# If you’re just doing inference or want to freeze weights:

with torch.no_grad():
    y = x * 2  # no gradient tracking
    
x.requires_grad_(False)

# --- In [7] ---
# Run on GPU if available:
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
x = x.to(device)
print(x.device)

# --- In [14] ---
print(x.grad)

# --- seeds/002, item 13: requires_grad, and three ways to switch it off ---
a = torch.rand(100,100,requires_grad =True)

x = torch.randn(3,requires_grad=True)
#way 1
x.requires_grad_(False)
# way 2
x.detach()
# way 3
with torch.no_grad():
    y = x + 2
    # printing y and requires_grad is False
    print(y)

# --- item 14: backward from a scalar ---
import numpy as np
import torch

a = torch.rand(3,requires_grad =True)
b = a + 2
c = b*b*4
d = c.mean()
print(d)
d.backward()#tensor(20.5779, grad_fn=<MeanBackward0>)
print(a.grad)#tensor([6.0689, 5.9862, 6.0895])

# --- seeds/004, "Autograd", In [8] ---
import torch

x = torch.randn(2, requires_grad=True)
print(x)

# --- In [9] ---
y = x+2 # this will create computational graph
# for each operation there will be a node with inputs and outputs
# first we do forward pass --> this will give y
# and the for backward --> grad_fn dy/dx
print(y)

# --- In [10] ---
z = y * y * 2
print(z)

# --- In [11] ---
z = z.mean()
print(z)

# --- In [12] ---
z.backward() #  this will then calculate gradients with respect to x
print(x.grad)

# --- In [19] ---
# let's start with forward propagation
import torch

# initialized 4 scalar tensor
a = torch.tensor([2.], requires_grad=True)
b = torch.tensor([-4.], requires_grad=True)
c = torch.tensor([-2.], requires_grad=True)
d = torch.tensor([2.], requires_grad=True)

# now we do further operations
e = a + b
f = c * d

# further opertatin
g = e * f

# display the outputs of each steps
print(e,f,g)

# --- In [17] ---
# during these operations, the code is converted to computational graphs
# these computational graphs help to perform automatic differenations and calculate gradients for back propagation

# --- In [20] ---
g.backward() # calculates backward propagationo gradients
print(a.grad.data)
print(b.grad.data)
print(c.grad.data)
print(d.grad.data)

# --- In [21] ---
# to remove gradients and calculation of gradients 
# a.requires_grad_(False)
# a.detach()
# with torch.no_grad():
