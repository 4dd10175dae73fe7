"""Bundled example models, trained deterministically in about a second on scikit-learn's datasets.

No downloads: scikit-learn ships these datasets inside the package.
"""

from __future__ import annotations

import numpy as np

from zkml.models import LoadedModel

SEED = 0
CALIBRATION_SAMPLES = 64
HOLDOUT_SAMPLES = 100


def _train(module, x: np.ndarray, y: np.ndarray, epochs: int, lr: float):
    """Full-batch Adam: deterministic on CPU for a fixed seed, and fast on these small sets."""
    import torch

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(module(xt), yt)
        loss.backward()
        optimizer.step()
    return module.eval()


def _split(x: np.ndarray, y: np.ndarray):
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)


def breast_cancer(hidden: int = 16) -> LoadedModel:
    """A clinic's diagnosis MLP: 30 standardised measurements -> (malignant, benign) logits."""
    import torch
    from sklearn.datasets import load_breast_cancer

    torch.manual_seed(SEED)
    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = _split(x, y)
    mean, std = x_train.mean(0), x_train.std(0)
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_test = ((x_test - mean) / std).astype(np.float32)
    module = torch.nn.Sequential(
        torch.nn.Linear(30, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2)
    )
    _train(module, x_train, y_train.astype(np.int64), epochs=200, lr=1e-2)
    return LoadedModel(
        name="breast_cancer" if hidden == 16 else f"breast_cancer_h{hidden}",
        description=f"breast-cancer diagnosis MLP 30-{hidden}-2 (scikit-learn breast_cancer)",
        input_shape=(1, 30),
        calibration=x_train[:CALIBRATION_SAMPLES],
        holdout=x_test[:HOLDOUT_SAMPLES],
        holdout_labels=y_test[:HOLDOUT_SAMPLES],
        module=module,
        extra={"classes": ["malignant", "benign"]},
    )


def iris() -> LoadedModel:
    """A tiny MLP 4-8-3 on iris flowers: small enough to hash its weights in-circuit cheaply."""
    import torch
    from sklearn.datasets import load_iris

    torch.manual_seed(SEED)
    x, y = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = _split(x, y)
    mean, std = x_train.mean(0), x_train.std(0)
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_test = ((x_test - mean) / std).astype(np.float32)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    _train(module, x_train, y_train.astype(np.int64), epochs=300, lr=1e-2)
    return LoadedModel(
        name="iris",
        description="iris species MLP 4-8-3 (scikit-learn iris dataset)",
        input_shape=(1, 4),
        calibration=x_train[:CALIBRATION_SAMPLES],
        holdout=x_test[:HOLDOUT_SAMPLES],
        holdout_labels=y_test[:HOLDOUT_SAMPLES],
        module=module,
        extra={"classes": ["setosa", "versicolor", "virginica"]},
    )


def _digits_data(shape: tuple[int, ...]):
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return _split((x / 16.0).astype(np.float32).reshape(-1, *shape[1:]), y)


def digits(channels: int = 4) -> LoadedModel:
    """A small CNN on scikit-learn's 8x8 handwritten digits (pixels scaled to [0, 1])."""
    import torch

    torch.manual_seed(SEED)
    x_train, x_test, y_train, y_test = _digits_data((1, 1, 8, 8))
    module = torch.nn.Sequential(
        torch.nn.Conv2d(1, channels, kernel_size=3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(channels * 6 * 6, 10),
    )
    _train(module, x_train, y_train.astype(np.int64), epochs=150, lr=2e-2)
    return LoadedModel(
        name="digits" if channels == 4 else f"digits_c{channels}",
        description=f"handwritten-digit CNN conv3x3({channels})-relu-dense(10) (scikit-learn "
        "digits)",
        input_shape=(1, 1, 8, 8),
        calibration=x_train[:CALIBRATION_SAMPLES],
        holdout=x_test[:HOLDOUT_SAMPLES],
        holdout_labels=y_test[:HOLDOUT_SAMPLES],
        module=module,
        extra={"classes": [str(d) for d in range(10)]},
    )


def digits_mlp() -> LoadedModel:
    """An MLP 64-32-10 on the flattened 8x8 digits: the small cousin of the MNIST MLP."""
    import torch

    torch.manual_seed(SEED)
    x_train, x_test, y_train, y_test = _digits_data((1, 64))
    module = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    _train(module, x_train, y_train.astype(np.int64), epochs=150, lr=1e-2)
    return LoadedModel(
        name="digits_mlp",
        description="handwritten-digit MLP 64-32-10 (scikit-learn digits)",
        input_shape=(1, 64),
        calibration=x_train[:CALIBRATION_SAMPLES],
        holdout=x_test[:HOLDOUT_SAMPLES],
        holdout_labels=y_test[:HOLDOUT_SAMPLES],
        module=module,
        extra={"classes": [str(d) for d in range(10)]},
    )
