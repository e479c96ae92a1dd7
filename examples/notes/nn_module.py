"""`torch.nn`: one `nn.Linear` layer and its parameters, two stacked layers, `nn.ReLU`
between them, then the 3-2-1 network seeded with `manual_seed(0)`, its `nn.MSELoss`,
`zero_grad()` and `backward()`.

From the notes: seeds/001, "Important Stuff" > "Torch NN module", In [16] to In [20], and
"Backpropogation", In [21] to In [25].

Expressions that a notebook would display are wrapped in `print(...)`; the lines marked
"shows the result" are added where a cell computes gradients but shows nothing.
"""

# --- In [16] ---
import torch 
import torch.nn as nn


# pretend we have 4 samples, each with 3 input features
x = torch.tensor([[1.0, 2.0, 3.0],
                  [0.5, 1.0, 1.5],
                  [2.0, 0.5, 1.0],
                  [1.5, 1.5, 0.5]])

# pretend the true outputs we want to learn are single numbers (regression)
y_true = torch.tensor([[10.0],
                       [ 5.0],
                       [ 7.0],
                       [ 8.0]])



layer = nn.Linear(in_features=3, out_features=1)

print("Weight:", layer.weight)
print("Bias:  ", layer.bias)

# --- In [17] ---
output = layer(x)

# --- In [18] ---
print(output)

# --- In [19] ---
# Two layers
x = torch.tensor([[1.0, 2.0, 3.0],
                  [0.5, 1.0, 1.5],
                  [2.0, 0.5, 1.0],
                  [1.5, 1.5, 0.5]])

layer1 = nn.Linear(3, 1)
out1 = layer1(x)
print("Output of first layer:\n", out1)

layer2 = nn.Linear(1, 1)     # in_features=1 because layer1 outputs 1 value
out2 = layer2(out1)
print("Output of second layer:\n", out2)
#if you multiply two linear transformations back-to-back, you just get one larger linear transformation:
# So we need to add nonlinearity behind them

# --- In [20] ---
relu = nn.ReLU()

h = layer1(x)       # linear transform
h = relu(h)         # non-linear activation
out = layer2(h)     # second linear transform

print("Output after ReLU + second layer:\n", out)

# --- "Backpropogation", In [21] ---
import torch
import torch.nn as nn

torch.manual_seed(0)

# input: 3 features -> hidden: 2 neurons -> output: 1 value
layer1 = nn.Linear(3, 2)
relu = nn.ReLU()
layer2 = nn.Linear(2, 1)

x = torch.tensor([[1.0, 2.0, 3.0]])
y_true = torch.tensor([[10.0]])

# --- In [22] ---
h = layer1(x)        # linear transform
h_relu = relu(h)     # activation
y_pred = layer2(h_relu)  # final output
print("Predicted:", y_pred)

#x → layer1(weight,bias) → h → ReLU → h_relu → layer2(weight,bias) → y_pred
# every arrow is an operation PyTorch can differentiate.

# --- In [23] ---
# compute the loss (how wrong we were)
loss_fn = nn.MSELoss()
loss = loss_fn(y_pred, y_true)
print("Loss:", loss.item())
#this is a single scalar (mean squared error).

# --- In [25] ---
# backward pass
layer1.zero_grad()
layer2.zero_grad()

loss.backward()
print("layer1.weight.grad:", layer1.weight.grad)  # shows the result
print("layer2.weight.grad:", layer2.weight.grad)  # shows the result
