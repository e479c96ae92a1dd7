"""Dive into Deep Learning, 4.2 Implementation of Multilayer Perceptrons from Scratch.
https://classic.d2l.ai/chapter_multilayer-perceptrons/mlp-scratch.html

Changed: d2l comes from offline_d2l (Fashion-MNIST is scikit-learn's digits at 28x28, no
download; the Animator prints each point); 1,500 training images make few steps an epoch,
so the batch size is 32 instead of 256, for 5 epochs instead of 10; `d2l.predict_ch3` is left
out (it plots images).
"""

import torch
from torch import nn

from offline_d2l import torch as d2l

batch_size = 32
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)

num_inputs, num_outputs, num_hiddens = 784, 10, 256

W1 = nn.Parameter(torch.randn(
    num_inputs, num_hiddens, requires_grad=True) * 0.01)
b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
W2 = nn.Parameter(torch.randn(
    num_hiddens, num_outputs, requires_grad=True) * 0.01)
b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))

params = [W1, b1, W2, b2]


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def net(X):
    X = X.reshape((-1, num_inputs))
    H = relu(X@W1 + b1)  # Here '@' stands for matrix multiplication
    return (H@W2 + b2)


loss = nn.CrossEntropyLoss(reduction='none')

num_epochs, lr = 5, 0.1
updater = torch.optim.SGD(params, lr=lr)
d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, updater)
