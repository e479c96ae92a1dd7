"""micrograd's demo (demo.ipynb): a 2-16-16-1 MLP on make_moons with an SVM max-margin loss
and L2 regularisation, trained by SGD for 100 steps, written in PyTorch the way micrograd's
test_engine.py writes micrograd's code: double tensors where micrograd has `Value`s.
https://github.com/karpathy/micrograd/blob/master/demo.ipynb
https://github.com/karpathy/micrograd/blob/master/test/test_engine.py

Changed: a `Neuron` holds its weights as one double tensor (micrograd: one `Value` each)
and a layer runs its neurons on the whole batch at once, so that a step takes
milliseconds; the loss and the accuracy stay per sample, as the demo writes them. The
decision-boundary plot is left out.
"""

import random

import numpy as np
import torch
from sklearn.datasets import make_moons

np.random.seed(1337)
random.seed(1337)


class Module:

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def parameters(self):
        return []


class Neuron(Module):

    def __init__(self, nin, nonlin=True):
        self.w = torch.Tensor([random.uniform(-1,1) for _ in range(nin)]).double()
        self.b = torch.Tensor([0]).double()
        self.w.requires_grad = True
        self.b.requires_grad = True
        self.nonlin = nonlin

    def __call__(self, x):
        act = x @ self.w + self.b
        return act.relu() if self.nonlin else act

    def parameters(self):
        return [self.w, self.b]

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):

    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else torch.stack(out, dim=1)

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):

    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i+1], nonlin=i!=len(nouts)-1) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


# make up a dataset
X, y = make_moons(n_samples=100, noise=0.1)

y = y*2 - 1 # make y be -1 or 1

# initialize a model
model = MLP(2, [16, 16, 1]) # 2-layer neural network
print(model)
print("number of parameters", sum(p.nelement() for p in model.parameters()))


# loss function
def loss(batch_size=None):

    # inline DataLoader :)
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = torch.tensor(Xb)

    # forward the model to get scores
    scores = model(inputs)

    # svm "max-margin" loss
    losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum(((p*p).sum() for p in model.parameters()))
    total_loss = data_loss + reg_loss

    # also get accuracy
    accuracy = [(yi > 0) == (scorei.item() > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


total_loss, acc = loss()
print(total_loss, acc)

# optimization
for k in range(100):

    # forward
    total_loss, acc = loss()

    # backward
    model.zero_grad()
    total_loss.backward()

    # update (sgd)
    learning_rate = 1.0 - 0.9*k/100
    with torch.no_grad():
        for p in model.parameters():
            p.data -= learning_rate * p.grad

    if k % 1 == 0:
        print(f"step {k} loss {total_loss.item()}, accuracy {acc*100}%")
