"""Packages, tensor creation, `torch.cat`, reshaping a batch with `view`, memory shared with
NumPy, and computation graphs: `autograd.Variable`, `.data`, `grad_fn`, `backward` with
`retain_graph=True`, and the CUDA check.

From the notes: seeds/003 ("Packages", "Tensors", "Numpy", "Computation Graphs and
Automatic Differentiation", "CUDA").

Expressions that a notebook would display are wrapped in `print(...)`; lines marked
"shows the result" are added where a snippet computes something but shows nothing.
"""

# --- Packages ---
import torch #similar to numpy
import torch.autograd #differntiation lib
import torch.nn # neural networks lib with autograd integration
import torch.optim # standard op methods like gradient descent

# `import torch.autograd` binds only the name `torch`, so the `autograd.Variable(...)` below
# would be a NameError; this import gives the notes the name they use.
from torch import autograd

torch.manual_seed(123)

# --- Tensors > Creation ---
# torch.empty is left unprinted: its values are whatever the memory held.
torch.empty(5,3) #uninitialized 5*3
print(torch.rand(5,3))
# The notes write torch.zeroes, which PyTorch does not have (AttributeError): torch.zeros.
print(torch.zeros(5, 3, dtype=torch.long))

# --- From Data ---
v = [1,2,3]
v_tensor = torch.Tensor(v)
print(v_tensor)  # shows the result

# --- Operations > Cat ---
x_1 = torch.randn(2, 5) 
y_1 = torch.randn(3, 5)
z_1 = torch.cat((x_1, y_1)) #0 is along first listed axis, 1 2nd etc
print(z_1.shape)  # shows the result

# --- Operations > Reshape ---
x = torch.randn(3200, 3, 28, 28) #3200 photos of 28*28 RGB
# We want a batch, infer second dimesion with -1
x_reshaped = x.view(32, -1, 3, 28, 28) 
print(x_reshaped.shape)

# --- Numpy: they share their underlying memory ---
a = torch.ones(5)
b = a.numpy()
a.add_(1)
print(a)
print(b)

# --- Computation Graphs and Automatic Differentiation ---
# Variables wrap tensor objects
x = autograd.Variable(torch.Tensor([1,2,3]), requires_grad=True)
y = autograd.Variable(torch.Tensor([3,4,5]), requires_grad=True)
z = x + y
print(z.data)

# --- See comp graph ---
operation= z.grad_fn
print(operation)

s = z.sum()
print(s)
print(s.grad_fn)

# --- backpropagation ---
s.backward(retain_graph=True)

print(x)
print(x.grad) #value if we differentiate
print(y.grad)

# --- CUDA ---
if torch.cuda.is_available():
    a = torch.LongTensor(10).fill_(3).cuda()
