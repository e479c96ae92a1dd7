"""A character-level GPT trained on the documentation that ships with Python itself.

    python examples/gpt.py                      # 4 layers, width 128, 4 heads, context 64
    python examples/gpt.py --quick              # a tiny model for a few seconds
    python examples/gpt.py --precision bfloat16 --epochs 20
    python examples/gpt.py --quick --compare-stateful 50

The text is `pydoc_data.topics`, the pages `help()` shows (no download). A decoder-only
transformer built from `nablax.nn` layers (pre-norm blocks of causal self-attention and a
GELU MLP; the output head shares the token embedding's weight) learns to predict the next
character. `nx.fit` trains it with whole epochs compiled, AdamW under a warmup + cosine
schedule, gradient clipping and, by a flag, bfloat16 compute; each epoch prints the loss,
the held-out loss and next-character accuracy and the tokens per second. The loss curve
goes to a PNG (with matplotlib), and a jitted sampler writes a few lines at the end.

`torch_model(torch, config)` is the same network as a `torch.nn.Module` tree with the same
parameter names, for PyTorch or `nablax.stateful`; `--compare-stateful N` trains it with
the notes' loop from the same parameters on the same batches and prints how far its losses
are from the functional ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import math
import pathlib
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pydoc_data.topics

import nablax as nx
from nablax import nn


@dataclasses.dataclass(frozen=True)
class Config:
    """The model's sizes; `vocab` comes from the text."""

    vocab: int
    width: int
    heads: int
    depth: int
    context: int


# The script's settings: the full run, and a tiny one (a few seconds of training) for tests.
FULL = dict(width=128, heads=4, depth=4, context=64, epochs=10, batch_size=32, chars=None, lr=3e-3)
QUICK = dict(width=32, heads=2, depth=1, context=32, epochs=4, batch_size=16, chars=60_000, lr=1e-2)


# -- the model ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, repr=False)
class Block(nn.Layer):
    """A pre-norm transformer block: causal self-attention, then a GELU MLP, each added back."""

    ln_1: nn.LayerNorm
    attn: nn.MultiheadAttention
    ln_2: nn.LayerNorm
    mlp: nn.Sequential

    @classmethod
    def create(cls, width: int, heads: int) -> Block:
        mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        return cls(nn.LayerNorm(width), nn.MultiheadAttention(width, heads, batch_first=True), nn.LayerNorm(width), mlp)

    def apply(self, params, x, *, key=None, train=False):
        layers = self.bind(params, key=key, train=train)
        h = layers.ln_1(x)
        causal = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        x = x + layers.attn(h, h, h, attn_mask=causal, is_causal=True, need_weights=False)[0]
        return x + layers.mlp(layers.ln_2(x))


@dataclasses.dataclass(frozen=True, repr=False)
class GPT(nn.Layer):
    """Token and position embeddings, `depth` blocks, a final LayerNorm, and logits from the
    token embedding's own weight (weight tying: the output head has no parameters of its own)."""

    wte: nn.Embedding
    wpe: nn.Embedding
    blocks: tuple
    ln_f: nn.LayerNorm

    @classmethod
    def create(cls, config: Config) -> GPT:
        blocks = tuple(Block.create(config.width, config.heads) for _ in range(config.depth))
        return cls(nn.Embedding(config.vocab, config.width), nn.Embedding(config.context, config.width), blocks,
                   nn.LayerNorm(config.width))

    def init(self, key):
        """PyTorch's initialisation, but embeddings from N(0, 0.02) as GPT-2's: N(0, 1) rows
        read by the tied head would start with logits of standard deviation sqrt(width)."""
        params = super().init(key)
        for name in ("wte", "wpe"):
            params[name]["weight"] = 0.02 * params[name]["weight"]
        return params

    def apply(self, params, tokens, *, key=None, train=False):
        layers = self.bind(params, key=key, train=train)
        x = layers.wte(tokens) + layers.wpe(jnp.arange(tokens.shape[-1]))
        for block in layers.blocks:
            x = block(x)
        return nn.linear(layers.ln_f(x), params["wte"]["weight"])


# -- the data ----------------------------------------------------------------------------------


def load_text(chars: int | None = None) -> str:
    """The pages of Python's `help()` (the standard library's `pydoc_data.topics`), joined;
    the first `chars` characters when given."""
    text = "\n\n".join(pydoc_data.topics.topics[name] for name in sorted(pydoc_data.topics.topics))
    return text[:chars]


class Vocabulary:
    """The characters of a text, numbered in sorted order."""

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.codes = {char: code for code, char in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        return np.array([self.codes[char] for char in text], np.int32)

    def decode(self, tokens) -> str:
        return "".join(self.chars[int(token)] for token in tokens)


def windows(tokens: np.ndarray, context: int) -> tuple[np.ndarray, np.ndarray]:
    """`(inputs, targets)`: consecutive, non-overlapping windows of `context` tokens and the
    same windows one token later (the next character at every position)."""
    count = (len(tokens) - 1) // context
    starts = np.arange(count) * context
    rows = starts[:, None] + np.arange(context + 1)
    chunks = tokens[rows]
    return chunks[:, :-1], chunks[:, 1:]


def split_text(text: str, vocabulary: Vocabulary, context: int, held_out: float = 0.1):
    """Training and held-out windows: the last `held_out` of the text is never trained on."""
    tokens = vocabulary.encode(text)
    cut = int(len(tokens) * (1 - held_out))
    return windows(tokens[:cut], context), windows(tokens[cut:], context)


# -- training ------------------------------------------------------------------------------------


def next_token_loss(model: GPT):
    """Cross-entropy of the next character at every position, and its accuracy."""

    def flat(logits, targets):
        return logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)

    return nx.supervised_loss(model, lambda logits, targets: nx.losses.cross_entropy(*flat(logits, targets)),
                              metrics={"accuracy": lambda logits, targets: nx.metrics.accuracy(*flat(logits, targets))})


@dataclasses.dataclass(frozen=True)
class Schedule:
    """AdamW with decoupled weight decay under a warmup + cosine learning rate, after clipping
    the gradients' global norm to `clip`."""

    peak_lr: float = 3e-3
    total_steps: int = 1000
    warmup_steps: int = 100
    weight_decay: float = 0.01
    clip: float = 1.0

    def learning_rate(self) -> optax.Schedule:
        return optax.warmup_cosine_decay_schedule(0.0, self.peak_lr, self.warmup_steps, self.total_steps,
                                                  end_value=self.peak_lr / 10)

    def optimizer(self) -> optax.GradientTransformation:
        # inject_hyperparams keeps the rate in the optimizer state: fit records it as "lr".
        adamw = optax.inject_hyperparams(optax.adamw)(learning_rate=self.learning_rate(), weight_decay=self.weight_decay)
        return optax.chain(optax.clip_by_global_norm(self.clip), adamw)


class Report(nx.callbacks.Callback):
    """Prints each epoch's losses, held-out accuracy, learning rate and tokens per second."""

    def __init__(self, tokens_per_step: int, show: bool = True):
        self.tokens_per_step, self.show = tokens_per_step, show

    def on_epoch_end(self, run, metrics):
        seconds = run.history.epoch_seconds[-1]
        metrics["tokens_per_s"] = self.tokens_per_step * run.history.steps_per_epoch / seconds
        if not self.show:
            return
        held_out = (f"held-out loss {metrics['val_loss']:.4f}  accuracy {metrics['val_accuracy']:.1%}  "
                    if "val_loss" in metrics else "")
        note = " (with compilation)" if run.epoch == run.first_epoch else ""
        print(f"epoch {run.epoch + 1:>3}/{run.epochs}  loss {metrics['loss']:.4f}  {held_out}lr {metrics['lr']:.1e}  "
              f"{metrics['tokens_per_s']:,.0f} tokens/s{note}", flush=True)


def train(model: GPT, params, train_data, held_out=None, *, epochs: int, batch_size: int, schedule: Schedule,
          seed: int = 0, precision: str | None = None, show: bool = True):
    """`nx.fit` over the training windows (shuffled by `seed`, whole batches only), evaluating
    on the held-out ones after every epoch when given. Returns the state and the history."""
    tokens_per_step = batch_size * train_data[0].shape[1]
    return nx.fit(next_token_loss(model), schedule.optimizer(), params, train_data, epochs=epochs,
                  batch_size=batch_size, key=seed, drop_last=True, eval_data=held_out, eval_batch_size=4 * batch_size,
                  progress=False, precision=precision, callbacks=[Report(tokens_per_step, show)])


def steps_per_epoch(train_data, batch_size: int) -> int:
    return len(train_data[0]) // batch_size


# -- sampling ------------------------------------------------------------------------------------


@functools.partial(jax.jit, static_argnames=("model", "length"))
def sample(model: GPT, params, prompt: jax.Array, key: jax.Array, *, length: int, temperature=1.0) -> jax.Array:
    """`prompt` followed by `length` tokens drawn one at a time from softmax(logits /
    temperature), in one compiled program. Each token sees at most the model's context: the
    window of `wpe`'s length that ends at it (causal attention ignores what lies after)."""
    context = model.wpe.num_embeddings
    total = prompt.shape[0] + length
    size = max(total, context)
    tokens = jnp.zeros(size, jnp.int32).at[: prompt.shape[0]].set(prompt)

    def draw(tokens, position):
        start = jnp.clip(position - context, 0, size - context)
        window = jax.lax.dynamic_slice(tokens, (start,), (context,))
        logits = model.apply(params, window[None])[0, position - 1 - start]
        token = jax.random.categorical(jax.random.fold_in(key, position), logits / temperature)
        return tokens.at[position].set(token.astype(tokens.dtype)), None

    tokens, _ = jax.lax.scan(draw, tokens, jnp.arange(prompt.shape[0], total))
    return tokens[:total]


def samples(model: GPT, params, vocabulary: Vocabulary, *, count: int = 3, length: int = 160, prompt: str = "\n",
            temperature: float = 0.8, seed: int = 0) -> list[str]:
    """`count` texts continuing `prompt`, each drawn with its own key."""
    keys = jax.random.split(jax.random.key(seed), count)
    encoded = jnp.asarray(vocabulary.encode(prompt))
    drawn = jax.vmap(lambda key: sample(model, params, encoded, key, length=length, temperature=temperature))(keys)
    return [vocabulary.decode(tokens) for tokens in np.asarray(drawn)]


# -- the stateful twin -----------------------------------------------------------------------------


def torch_model(torch, config: Config):
    """The same GPT as a `torch.nn.Module` tree, for `torch` = PyTorch or `nablax.stateful`:
    the same parameter names (`blocks.0.attn.in_proj_weight`, ...), so `load_state_dict` takes
    the functional parameters. Attention uses `F.scaled_dot_product_attention` where the
    module has it, else softmax(q k^T / sqrt(d)) v written out with a causal `where`."""
    nn, F = torch.nn, torch.nn.functional

    def causal_attention(q, k, v):
        length = q.shape[-2]
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        causal = torch.arange(length).unsqueeze(1) >= torch.arange(length).unsqueeze(0)
        return F.softmax(torch.where(causal, scores, float("-inf")), dim=-1) @ v

    sdpa = getattr(F, "scaled_dot_product_attention", None)
    attend = causal_attention if sdpa is None else functools.partial(sdpa, is_causal=True)

    class CausalSelfAttention(nn.Module):
        """`nn.MultiheadAttention`'s parameters, causal self-attention only."""

        def __init__(self, width, heads):
            super().__init__()
            self.heads = heads
            self.in_proj_weight = nn.Parameter(torch.zeros(3 * width, width))
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
            self.out_proj = nn.Linear(width, width)
            nn.init.xavier_uniform_(self.in_proj_weight)

        def forward(self, x):
            batch, length, width = x.shape
            qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
            q, k, v = (qkv[..., i * width:(i + 1) * width].view(batch, length, self.heads, -1).transpose(1, 2)
                       for i in range(3))
            return self.out_proj(attend(q, k, v).transpose(1, 2).reshape(batch, length, width))

    class TorchBlock(nn.Module):
        def __init__(self, width, heads):
            super().__init__()
            self.ln_1 = nn.LayerNorm(width)
            self.attn = CausalSelfAttention(width, heads)
            self.ln_2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class TorchGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(config.vocab, config.width)
            self.wpe = nn.Embedding(config.context, config.width)
            self.blocks = nn.ModuleList([TorchBlock(config.width, config.heads) for _ in range(config.depth)])
            self.ln_f = nn.LayerNorm(config.width)

        def forward(self, tokens):
            x = self.wte(tokens) + self.wpe(torch.arange(tokens.shape[-1]))
            for block in self.blocks:
                x = block(x)
            return F.linear(self.ln_f(x), self.wte.weight)  # the head is the token embedding

    return TorchGPT()


def clip_grad_norm_(torch, parameters, max_norm: float):
    """Scales the gradients in place so that their global norm is at most `max_norm`, as
    `optax.clip_by_global_norm` does (PyTorch's `clip_grad_norm_` divides by norm + 1e-6)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = torch.sqrt(sum((grad * grad).sum() for grad in grads))
    scale = torch.clamp(max_norm / norm, max=1.0)
    with torch.no_grad():
        for grad in grads:
            grad.mul_(scale)
    return norm


def train_torch(torch, model, batches, schedule: Schedule) -> list[float]:
    """The notes' loop with the optimizer of `Schedule`: forward, loss, `zero_grad`,
    `backward`, clip, `step`; the learning rate from `LambdaLR` with the same schedule.
    Returns every step's loss."""
    learning_rate = schedule.learning_rate()
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.peak_lr, weight_decay=schedule.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: float(learning_rate(step)) / schedule.peak_lr)
    losses = []
    for inputs, targets in batches:
        logits = model(torch.tensor(inputs).long())
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.tensor(targets).long().reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(torch, model.parameters(), schedule.clip)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def first_batches(train_data, batch_size: int, count: int, seed: int = 0) -> list:
    """The first `count` batches `train` trains on, in its order: `fit` shuffles epoch `e`
    with `nx.data.epoch_key(seed, e)`, as `nx.data.batches` does."""
    epochs = math.ceil(count / steps_per_epoch(train_data, batch_size))
    batches = nx.data.batches(train_data, batch_size, key=seed, drop_last=True, epochs=epochs)
    return list(itertools.islice(batches, count))


def stateful_losses(config: Config, params, batches, schedule: Schedule) -> list[float]:
    """The losses of the `nablax.stateful` twin, trained by `train_torch` from `params`."""
    import nablax.stateful as torch  # turns on jax_enable_x64 for the process: only when asked

    twin = torch_model(torch, config)
    twin.load_state_dict(params)  # the functional params pytree, names and all
    return train_torch(torch, twin, batches, schedule)


# -- the script ------------------------------------------------------------------------------------


def plot_losses(history, path, steps: int) -> pathlib.Path | None:
    """The training loss of every step (`steps` per epoch) and the held-out loss of every
    epoch, as a PNG at `path`; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(np.arange(1, len(history.steps["loss"]) + 1), history.steps["loss"], lw=0.8, label="training loss")
    if "val_loss" in history:
        axis.plot(steps * np.arange(1, len(history["val_loss"]) + 1), history["val_loss"], "o-", label="held-out loss")
    axis.set(xlabel="step", ylabel="cross-entropy (nats per character)", title="character-level GPT")
    axis.grid(alpha=0.3)
    axis.legend()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny model on part of the text, for a few seconds")
    for name, value in FULL.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=float if name == "lr" else int, default=None,
                            help=f"default {value} ({QUICK[name]} with --quick)")
    parser.add_argument("--precision", choices=["float32", "bfloat16", "float16"], default="float32")
    parser.add_argument("--plot", default=str(pathlib.Path(tempfile.gettempdir()) / "nablax-gpt" / "loss.png"),
                        help="where to draw the loss curve (PNG; needs matplotlib)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--compare-stateful", type=int, default=0, metavar="STEPS",
                        help="train the nablax.stateful twin on the first STEPS batches and compare the losses")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.compare_stateful and args.precision != "float32":
        parser.error("--compare-stateful compares float32 training: leave out --precision")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    text = load_text(args.chars)
    vocabulary = Vocabulary(text)
    config = Config(len(vocabulary), args.width, args.heads, args.depth, args.context)
    train_data, held_out = split_text(text, vocabulary, config.context)
    model = GPT.create(config)
    steps = steps_per_epoch(train_data, args.batch_size)
    schedule = Schedule(peak_lr=args.lr, total_steps=args.epochs * steps, warmup_steps=max(1, args.epochs * steps // 10))
    size = sum(leaf.size for leaf in jax.tree_util.tree_leaves(jax.eval_shape(lambda: model.init(0))))
    print(f"{len(text):,} characters of Python's help pages, {len(vocabulary)} distinct; {len(train_data[0])} training "
          f"windows of {config.context}, {len(held_out[0])} held out")
    print(f"GPT: {config.depth} blocks, width {config.width}, {config.heads} heads, {size:,} parameters; "
          f"{args.epochs} epochs of {steps} steps of {args.batch_size} windows, {args.precision}")
    params = model.init(0)
    state, history = train(model, params, train_data, held_out, epochs=args.epochs, batch_size=args.batch_size,
                           schedule=schedule, precision=args.precision)
    tokens_per_step = args.batch_size * config.context
    print(f"steady speed: {tokens_per_step / history.seconds_per_step():,.0f} tokens/s")
    if not args.no_plot:
        drawn = plot_losses(history, args.plot, steps)
        print(f"loss curve: {drawn}" if drawn else "loss curve: not drawn (python -m pip install matplotlib)")
    texts = samples(model, state.params, vocabulary)
    print("samples at temperature 0.8:")
    for index, text in enumerate(texts):
        print(f"--- {index + 1}\n{text.strip()}")
    result = {"history": history, "samples": texts}
    if args.compare_stateful:
        count = min(args.compare_stateful, len(history.steps["loss"]))
        losses = stateful_losses(config, params, first_batches(train_data, args.batch_size, count), schedule)
        gap = float(np.max(np.abs(np.array(losses) - history.steps["loss"][:count])))
        print(f"nablax.stateful twin, the notes' loop from the same parameters on the same batches: largest loss "
              f"difference over {count} steps {gap:.1e}")
        result["stateful_gap"] = gap
    return result


if __name__ == "__main__":
    main()
