"""The training cycle one step at a time: `nn.Linear` creates weights `[out, in]` and biases
`[out]` with `requires_grad=True`; the forward pass; `nn.MSELoss`; `optimizer.zero_grad()`;
`loss.backward()`; `optimizer.step()`; then the same five lines inside an epoch loop over
mini-batches.

From the notes: seeds/001, "Important Stuff", the explanations after "Backpropogation":
sections 2-7 of "What happens in training" and "Code outline" of "What an epoch means".

The notes show these lines without data, model, optimizer or data loader; the definitions
they rely on are added here and marked "defined here", and lines marked "shows the result"
are added so that each step shows what it did.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

# Defined here: 4 samples with 3 features each and 2 targets each, to match the layer below.
x = torch.tensor([[1.0, 2.0, 3.0],
                  [0.5, 1.0, 1.5],
                  [2.0, 0.5, 1.0],
                  [1.5, 1.5, 0.5]])
y_true = torch.tensor([[10.0, 1.0],
                       [ 5.0, 0.5],
                       [ 7.0, 2.0],
                       [ 8.0, 1.5]])

# --- 2. What nn.Linear does ---
layer = nn.Linear(in_features=3, out_features=2)
print(layer.weight.shape, layer.bias.shape, layer.weight.requires_grad, layer.bias.requires_grad)  # shows the result

# --- 3. What happens in the forward pass ---
y_pred = layer(x)
print(y_pred)  # shows the result

# --- 4. What the loss function does ---
criterion = nn.MSELoss()
loss = criterion(y_pred, y_true)
print(loss)  # shows the result

# Defined here: the optimizer that sections 5 and 7 call.
optimizer = torch.optim.SGD(layer.parameters(), lr=0.01)

# --- 5. Why we use zero_grad() ---
optimizer.zero_grad()

# --- 6. What happens in the backward pass ---
loss.backward()
print(layer.weight.grad.shape, layer.bias.grad)  # shows the result

# --- 7. Updating weights ---
weight_before = layer.weight.detach().clone()  # defined here, to show that step() moved it
optimizer.step()
print(torch.allclose(layer.weight, weight_before - 0.01 * layer.weight.grad))  # shows the result

# --- "What an epoch means", 3. Code outline ---
# Defined here: the model, the data loader of mini-batches and the number of epochs.
model = layer
dataloader = DataLoader(TensorDataset(x, y_true), batch_size=2)
num_epochs = 5

for epoch in range(num_epochs):
    for batch_x, batch_y in dataloader:
        y_pred = model(batch_x)                 # 1. forward pass
        loss = criterion(y_pred, batch_y)       # 2. compute loss
        optimizer.zero_grad()                   # 3. clear old gradients
        loss.backward()                         # 4. backpropagation
        optimizer.step()                        # 5. update weights

    print(f"Epoch {epoch+1}, Loss: {loss.item():.4f}")
