"""Bundled example models, trained deterministically in about a second on scikit-learn's datasets.

No downloads: scikit-learn ships these datasets inside the package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from zkml.models import LoadedModel

SEED = 0
CALIBRATION_SAMPLES = 64
HOLDOUT_SAMPLES = 100


def _split(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)


def _standardized(load: Callable[..., Any]) -> list[np.ndarray]:
    """Split, then scale features by the training set's mean and deviation."""
    x_train, x_test, y_train, y_test = _split(*load(return_X_y=True))
    mean, std = x_train.mean(0), x_train.std(0)
    return [((x_train - mean) / std).astype(np.float32), ((x_test - mean) / std).astype(np.float32),
            y_train, y_test]


def _digits(shape: tuple[int, ...]) -> list[np.ndarray]:
    """8x8 digit images, pixels scaled to [0, 1], in the model's input shape."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return _split((x / 16.0).astype(np.float32).reshape(-1, *shape[1:]), y)


def _trained(name: str, description: str, input_shape: tuple[int, ...],
             make_module: Callable[[], Any], data: list[np.ndarray], epochs: int, lr: float,
             classes: list[str]) -> LoadedModel:
    """Seed, build, train with full-batch Adam (deterministic on CPU, fast on these sets)."""
    import torch

    torch.manual_seed(SEED)
    module = make_module()
    x_train, x_test, y_train, y_test = data
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train.astype(np.int64))
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(xt), yt).backward()
        optimizer.step()
    return LoadedModel(
        name=name,
        description=description,
        input_shape=input_shape,
        calibration=x_train[:CALIBRATION_SAMPLES],
        holdout=x_test[:HOLDOUT_SAMPLES],
        holdout_labels=y_test[:HOLDOUT_SAMPLES],
        module=module.eval(),
        extra={"classes": classes},
    )


def _mlp(*widths: int) -> Callable[[], Any]:
    import torch

    def make() -> Any:
        layers: list[Any] = []
        for n_in, n_out in zip(widths, widths[1:], strict=False):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        return torch.nn.Sequential(*layers[:-1])

    return make


def breast_cancer(hidden: int = 16) -> LoadedModel:
    """A clinic's diagnosis MLP: 30 standardised measurements -> (malignant, benign) logits."""
    from sklearn.datasets import load_breast_cancer

    return _trained(
        "breast_cancer" if hidden == 16 else f"breast_cancer_h{hidden}",
        f"breast-cancer diagnosis MLP 30-{hidden}-2 (scikit-learn breast_cancer)",
        (1, 30), _mlp(30, hidden, 2), _standardized(load_breast_cancer), epochs=200, lr=1e-2,
        classes=["malignant", "benign"],
    )


def iris() -> LoadedModel:
    """A tiny MLP 4-8-3 on iris flowers: small enough to hash its weights in-circuit cheaply."""
    from sklearn.datasets import load_iris

    return _trained(
        "iris", "iris species MLP 4-8-3 (scikit-learn iris dataset)", (1, 4), _mlp(4, 8, 3),
        _standardized(load_iris), epochs=300, lr=1e-2,
        classes=["setosa", "versicolor", "virginica"],
    )


def digits(channels: int = 4) -> LoadedModel:
    """A small CNN on scikit-learn's 8x8 handwritten digits."""
    import torch

    def make() -> Any:
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, channels, kernel_size=3),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
            torch.nn.Linear(channels * 6 * 6, 10),
        )

    return _trained(
        "digits" if channels == 4 else f"digits_c{channels}",
        f"handwritten-digit CNN conv3x3({channels})-relu-dense(10) (scikit-learn digits)",
        (1, 1, 8, 8), make, _digits((1, 1, 8, 8)), epochs=150, lr=2e-2,
        classes=[str(d) for d in range(10)],
    )


def digits_mlp() -> LoadedModel:
    """An MLP 64-32-10 on the flattened 8x8 digits: the small cousin of the MNIST MLP."""
    return _trained(
        "digits_mlp", "handwritten-digit MLP 64-32-10 (scikit-learn digits)", (1, 64),
        _mlp(64, 32, 10), _digits((1, 64)), epochs=150, lr=1e-2,
        classes=[str(d) for d in range(10)],
    )
