"""Train a small ReLU network on synthetic data with GSGD and Lion, and plot the loss.

    python docs/examples/torch_relu.py --steps 300 --out torch_relu_loss.png

The data is a regression target from a random "teacher" ReLU network plus noise; the model is a
"student" network of the same shape. Every random draw uses an explicit ``torch.Generator``
(no global RNG state), so a run is a function of ``seed`` only. ``tests/test_torch_api.py`` runs
``main(steps=60)`` and checks that both losses decreased and that the figure was written.
"""
from __future__ import annotations

import argparse

import torch

from stochopt.torch import GSGD, Lion


def make_data(n=512, d=10, hidden=16, noise=0.05, seed=0):
    gen = torch.Generator().manual_seed(seed)
    teacher = [torch.randn(d, hidden, generator=gen) / d ** 0.5, torch.randn(hidden, 1, generator=gen) / hidden ** 0.5]
    X = torch.randn(n, d, generator=gen)
    y = torch.relu(X @ teacher[0]) @ teacher[1] + noise * torch.randn(n, 1, generator=gen)
    return X, y


def make_model(d=10, hidden=32, seed=1):
    gen = torch.Generator().manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
    with torch.no_grad():  # explicit initialisation from our generator (He-style scaling)
        for layer in (model[0], model[2]):
            fan_in = layer.weight.shape[1]
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            layer.bias.copy_(0.01 * torch.randn(layer.bias.shape, generator=gen))  # nonzero: avoid kinks at 0
    return model


def train(make_optimizer, steps, batch_size=32, seed=0):
    """Minibatch training; returns the full-batch loss after each step (index 0: before training)."""
    X, y = make_data(seed=seed)
    model = make_model(d=X.shape[1], seed=seed + 1)
    opt = make_optimizer(model.parameters())
    # decaying lr: with GSGD/Lion's default scaling = 1 / lr0, the momentum stepsize decays with it
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 / (1.0 + 0.01 * k))
    batches = torch.Generator().manual_seed(seed + 2)
    loss_fn = torch.nn.MSELoss()
    history = [loss_fn(model(X), y).item()]
    for _ in range(steps):
        idx = torch.randint(0, X.shape[0], (batch_size,), generator=batches)

        def closure():
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            return loss

        opt.step(closure)
        scheduler.step()
        with torch.no_grad():
            history.append(loss_fn(model(X), y).item())
    return history


OPTIMIZERS = {
    "GSGD (identity, momentum 0.9)": lambda params: GSGD(params, lr=0.05, momentum=0.9),
    "GSGD (clip:1.0, momentum 0.9)": lambda params: GSGD(params, lr=0.05, momentum=0.9, Dphi_map="clip:1.0"),
    "Lion (single-timescale)": lambda params: Lion(params, lr=3e-3, betas=(0.9, 0.99), weight_decay=0.01),
}


def main(steps=300, out="torch_relu_loss.png", seed=0):
    """Train with each optimizer, save the loss plot to ``out``; returns {name: loss history}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    losses = {name: train(make, steps, seed=seed) for name, make in OPTIMIZERS.items()}
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, history in losses.items():
        ax.semilogy(history, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("full-batch MSE")
    ax.set_title("ReLU network on synthetic data (stochopt.torch)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    for name, history in losses.items():
        print(f"{name:32s} loss {history[0]:.4f} -> {history[-1]:.4f}")
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default="torch_relu_loss.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.steps, args.out, args.seed)
