"""Backpropagation on the smallest linear regression, loss = (w*x - y)**2: the forward pass,
`loss.backward()` and dloss/dw = -2; then the same model trained with a hand-written
gradient in NumPy.

From the notes:
- seeds/000, "Backpropagation ... and linear regression" and "Backpropagation through Numpy";
- seeds/002, "PyTorch-Notes" > "Backpropagation", item 16;
- seeds/004, "Backpropagations", In [31].

Expressions that a notebook would display are wrapped in `print(...)`.
"""

import torch

# --- seeds/000, "Backpropagation ... and linear regression" ---
import torch
x = torch.tensor(1.0)
y = torch.tensor(2.0)
w = torch.tensor(1.0, requires_grad=True)
y_hat = w*x
loss = (y_hat - y)**2
loss.backward()
print(w.grad) #-2

# --- seeds/000, "Backpropagation through Numpy" ---
import numpy as np
X = np.array([1,2,3,4], dtype=np.float32)
Y = np.array([2,4,6,8], dtype=np.float32)
w = np.zeros_like(X, dtype=np.float32)

def forward(x):
      return w * x
def loss(y, y_hat):
      return ((y - y_hat)**2).mean()
def gradient(x, y, y_hat):
      return np.dot(2*x, y_hat-y).mean()
print(f'Prediction before training: {forward(X)}')
learning_rate = 0.01
n_iters = 5
for epoch in range(n_iters):
      # prediction: forward pass
      y_pred = forward(X)
      # loss
      l = loss(Y, y_pred)
      # gradient
      dw = gradient(X, Y, y_pred)
      # update weights
      w -= learning_rate * dw
print(f'Prediction after training: {forward(X)}')

# --- seeds/002, item 16: the 3 steps of backpropagation ---
import torch

x = torch.tensor(1.0)
y = torch.tensor(2.0)

w = torch.tensor(1.0,requires_grad=True)

#forward pass and compute the loss
y_hat = w * x
loss = (y_hat - y)**2

print(loss)
#backward loss
loss.backward()
print(w.grad)
#update weights
#next forward and backwards

# --- seeds/004, In [31] ---
import torch
x = torch.tensor(1.0)
y = torch.tensor(2.0)
w = torch.tensor(1.0, requires_grad=True)

# forward pass and compute the loss
y_hat = w * x
loss = (y_hat - y)**2

print(loss)

# backward pass
loss.backward()
print(w.grad) # dloss/dw

## update our weights
## next forward and backward pass
