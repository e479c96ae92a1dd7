"""Tensors: creation, dtypes, element-wise and in-place operations, slicing, `.item()`,
reshaping with `view`, NumPy interop and moving tensors between devices.

From the notes:
- seeds/000, "Intro" (the notes repeat this cell; it is ported once);
- seeds/001, "Important Stuff" > "Tensors", In [1] and In [3];
- seeds/002, "PyTorch-Notes" > "Tensors", items 4-12.

Expressions that a notebook would display are wrapped in `print(...)`; lines marked
"shows the result" are added where a snippet computes something but shows nothing.
"""

import torch

# --- seeds/000, "Intro" ---
x = torch.empty(1)
x = torch.rand(3,3)
x = torch.zeros(2,3)
x = torch.ones(2,5, dtype=torch.int8)
print(x.dtype)
print(x.size())

# Basic operations
x = torch.rand(2,2)
y = torch.rand(2,2)
z = x * y #element-wise operation 
y.add_(x) #inplace operation

#Slicing
x = torch.rand(5,3)
print(x[:,0]) #first row torch.Size([5])
print(x[0,:]) #first col torch.Size([3])
print(x[:, :1]) #first row of 2d tensor, torch.Size([5, 1])
print(x[:1, :]) #first col of 2d tensor, torch.Size([1, 3])
print(x[1,1].item()) #second row second col actual value access

#Reshape
x = torch.rand(3,4)
print(x.view(4,3))
print(x.view(-1,6))

# --- seeds/001, "Important Stuff" > "Tensors", In [1] ---
import torch 

# Create a tensor
x = torch.tensor([[1., 2.], [3., 4.]])

# Basic operations
print(x + 2)
print(x * 3)
print(x.mean())
print(x.T)  # transpose

# --- In [3] ---
print(torch.zeros(3,3))
print(torch.ones(2,4))
print(torch.randn(3,3))

# --- seeds/002, "PyTorch-Notes" > "Tensors", item 4: empty tensors in different dimensions ---
x_scalar = torch.empty(1)
x_vector = torch.empty(3)
x_matrix = torch.empty(2,3)
x_more_dimensions = torch.empty(4,5,6)

print(x_scalar.shape,x_vector.shape,x_matrix.shape,x_more_dimensions.shape)
#torch.Size([1]) torch.Size([3]) torch.Size([2, 3]) torch.Size([4, 5, 6])

# --- item 5: numpy-alike zeros, ones and rand; element-wise operations ---
x_ones = torch.ones(3,4, dtype=torch.float16)
x_random = torch.rand(3,4,dtype=torch.double)

x_via_operator = x_ones + x_random
x_via_method = torch.add(x_ones,x_random)

x_zeros = torch.zeros(1,3,4)
print(x_via_operator.dtype, torch.equal(x_via_operator, x_via_method), x_zeros.shape)  # shows the result

# --- item 6: a tensor from a Python list ---
x = torch.tensor([3,4,5])
print(x)  # shows the result

# --- item 9: .item() of a one-element tensor ---
x = torch.tensor([3,4,5])
print(x[0].item())# 3

# --- item 10: reshape with view ---

x = torch.rand(8,8)
y = x.view(-1,16)
print(y.size())#torch.Size([4, 16])
z = x.view(32,2)
print(z.size())#torch.Size([32, 2])

# --- item 11: .numpy() and from_numpy() ---
import numpy as np
import torch

a = torch.rand(3,4)
a_numpy = a.numpy()
print(type(a), type(a_numpy))#<class 'torch.Tensor'> <class 'numpy.ndarray'>

b = np.ones(4)
b_torch = torch.from_numpy(b)
print(type(b), type(b_torch))


b = np.ones(4)
b_torch = torch.from_numpy(b)
print(type(b), type(b_torch))#<class 'numpy.ndarray'> <class 'torch.Tensor'>

# --- item 12: moving a tensor to the GPU and back ---
if torch.cuda.is_available():
    device = torch.device("cuda")
    #first way to move a tensor to GPU
    x = torch.ones(4, device=device)
    # second way to move a tensor to GPU
    y = torch.rand(4)
    y = y.to(device=device)
    #z is a tensor on GPU
    z = x + y
    #can't convert torch gpu tensor to numpy, therefor convert it to cpu tensor first and then convert to numpy array
    z = z.to("cpu")
    z_numpy = z.numpy()
    print(type(z),type(z_numpy))#<class 'torch.Tensor'> <class 'numpy.ndarray'>
