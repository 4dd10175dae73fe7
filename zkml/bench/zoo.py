"""The benchmark's own models: lookup-heavy nonlinearities and larger networks, all trained on
data scikit-learn ships. Trained when the benchmark runs (a few seconds each): benchmark figures
are compared with tolerance, never exactly, so CPU-dependent training does not matter here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from zkml.models.bundled import (
    DIGIT_CLASSES,
    Dataset,
    Spec,
    digits_data,
    sklearn_loader,
    split,
    standardized,
)


def _net(*layers: Callable[[Any], Any]) -> Callable[[], Any]:
    def make() -> Any:
        import torch

        return torch.nn.Sequential(*(layer(torch.nn) for layer in layers))

    return make


def _digits28(scaling: dict[str, list[float]] | None) -> Dataset:
    """scikit-learn's 8x8 digits upsampled to MNIST's 28x28 (3x3 blocks, 2 pixels of border)."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    images = np.kron((x / 16.0).reshape(-1, 8, 8), np.ones((3, 3)))
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))).astype(np.float32)[:, None]
    x_train, x_test, y_train, y_test = split(images, y)
    return Dataset(x_train, x_test, y_train, y_test, None)


def _credit(scaling: dict[str, list[float]] | None) -> Dataset:
    """A credit-scoring stand-in: 96 standardised features, default or not."""
    from sklearn.datasets import make_classification

    def load(return_X_y: bool = True) -> tuple[np.ndarray, np.ndarray]:
        return make_classification(n_samples=6000, n_features=96, n_informative=24,
                                   n_redundant=24, class_sep=0.8, random_state=0)

    return standardized(load)(scaling)


def _fraud(scaling: dict[str, list[float]] | None) -> Dataset:
    """A fraud-scoring stand-in: 120 standardised features, fraud or not."""
    from sklearn.datasets import make_classification

    def load(return_X_y: bool = True) -> tuple[np.ndarray, np.ndarray]:
        return make_classification(n_samples=6000, n_features=120, n_informative=30,
                                   n_redundant=30, class_sep=0.8, random_state=1)

    return standardized(load)(scaling)


LONG_FIELDS = 3000  # a record longer than one KZG commitment column at the logrows it gets
DIGIT_FIELDS = 64
LONG_READ = 16  # the fields the model reads: the last two pixel rows of the record's digit


def _long_records(scaling: dict[str, list[float]] | None) -> Dataset:
    """Records of 3,000 fields: the pixels of 46 other digit images, then the subject's own
    image; the label says whether its digit is 5 or more."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    pixels = (x / 16.0).astype(np.float32)
    others = (LONG_FIELDS - DIGIT_FIELDS) // DIGIT_FIELDS + 1
    records = np.stack([
        np.concatenate([pixels[(i + 1 + np.arange(others)) % len(pixels)].ravel()
                        [:LONG_FIELDS - DIGIT_FIELDS], pixels[i]]) for i in range(len(pixels))])
    x_train, x_test, y_train, y_test = split(records, (y >= 5).astype(np.int64))
    return Dataset(x_train, x_test, y_train, y_test, None)


def _last_fields(fields: int, classes: int) -> Callable[[], Any]:
    def make() -> Any:
        import torch

        class LastFields(torch.nn.Module):
            """A linear classifier of a record's last `fields` fields."""

            def __init__(self) -> None:
                super().__init__()
                self.fc = torch.nn.Linear(fields, classes)

            def forward(self, x: Any) -> Any:
                return self.fc(x[:, -fields:])

        return LastFields()

    return make


# compile gives it 3 inner columns at logrows 11, where a subject spans two KZG columns
LONG_RECORD = Spec("long_record", "a 3,000-field record of which a linear classifier reads the "
                   "last 16 (is the record's digit 5 or more)", (1, LONG_FIELDS), _long_records,
                   _last_fields(LONG_READ, 2), epochs=150, lr=1e-2, classes=["0-4", "5-9"])

WINE = ["class_0", "class_1", "class_2"]
IRIS = ["setosa", "versicolor", "virginica"]

LOOKUP_HEAVY = [
    Spec("wine_bn_sigmoid", "wine MLP 13-12-3 with BatchNorm and Sigmoid", (1, 13),
         standardized(sklearn_loader("load_wine")),
         _net(lambda nn: nn.Linear(13, 12), lambda nn: nn.BatchNorm1d(12),
              lambda nn: nn.Sigmoid(), lambda nn: nn.Linear(12, 3)),
         epochs=300, lr=2e-2, classes=WINE),
    Spec("iris_tanh", "iris MLP 4-16-3 with Tanh", (1, 4),
         standardized(sklearn_loader("load_iris")),
         _net(lambda nn: nn.Linear(4, 16), lambda nn: nn.Tanh(), lambda nn: nn.Linear(16, 3)),
         epochs=300, lr=1e-2, classes=IRIS),
    Spec("breast_cancer_gelu", "breast-cancer MLP 30-16-2 with GELU", (1, 30),
         standardized(sklearn_loader("load_breast_cancer")),
         _net(lambda nn: nn.Linear(30, 16), lambda nn: nn.GELU(), lambda nn: nn.Linear(16, 2)),
         epochs=200, lr=1e-2, classes=["malignant", "benign"]),
    Spec("digits_softmax", "digits MLP 64-32-10 with a Softmax output", (1, 64),
         digits_data((1, 64)),
         _net(lambda nn: nn.Linear(64, 32), lambda nn: nn.ReLU(), lambda nn: nn.Linear(32, 10),
              lambda nn: nn.Softmax(dim=1)),
         epochs=150, lr=1e-2, classes=DIGIT_CLASSES),
    Spec("wine_bn_relu", "wine MLP 13-16-3 with BatchNorm and ReLU", (1, 13),
         standardized(sklearn_loader("load_wine")),
         _net(lambda nn: nn.Linear(13, 16), lambda nn: nn.BatchNorm1d(16),
              lambda nn: nn.ReLU(), lambda nn: nn.Linear(16, 3)),
         epochs=300, lr=2e-2, classes=WINE),
]

LARGE = [
    Spec("lenet5", "LeNet-5-style CNN on 28x28 digits (scikit-learn digits upsampled)",
         (1, 1, 28, 28), _digits28,
         _net(lambda nn: nn.Conv2d(1, 6, 5), lambda nn: nn.ReLU(), lambda nn: nn.AvgPool2d(2),
              lambda nn: nn.Conv2d(6, 16, 5), lambda nn: nn.ReLU(), lambda nn: nn.AvgPool2d(2),
              lambda nn: nn.Flatten(), lambda nn: nn.Linear(256, 120), lambda nn: nn.ReLU(),
              lambda nn: nn.Linear(120, 84), lambda nn: nn.ReLU(), lambda nn: nn.Linear(84, 10)),
         epochs=60, lr=5e-3, classes=DIGIT_CLASSES),
    Spec("credit_mlp", "credit-scoring MLP 96-256-128-1 (57,857 parameters), one score",
         (1, 96), _credit,
         _net(lambda nn: nn.Linear(96, 256), lambda nn: nn.ReLU(), lambda nn: nn.Linear(256, 128),
              lambda nn: nn.ReLU(), lambda nn: nn.Linear(128, 1)),
         epochs=120, lr=3e-3, classes=None),
]

# a real-size model, beside the bench's own: compile's search must not grow with it
FRAUD_MLP = Spec("fraud_mlp", "fraud-score MLP 120-384-192-2 (120,770 parameters)", (1, 120),
                 _fraud, _net(lambda nn: nn.Linear(120, 384), lambda nn: nn.ReLU(),
                              lambda nn: nn.Linear(384, 192), lambda nn: nn.ReLU(),
                              lambda nn: nn.Linear(192, 2)),
                 epochs=60, lr=3e-3, classes=["legitimate", "fraud"])

def _deep_mlp(inputs: int, width: int, hidden: int) -> Callable[[], Any]:
    layers: list[Callable[[Any], Any]] = [lambda nn: nn.Linear(inputs, width)]
    for _ in range(hidden - 1):
        layers += [lambda nn: nn.ReLU(), lambda nn: nn.Linear(width, width)]
    return _net(*layers, lambda nn: nn.ReLU(), lambda nn: nn.Linear(width, 1))


# segments (part split): a model whose every layer fits one circuit of 2^18 rows
SPLIT = [
    Spec("credit_mlp_1m", "credit-scoring MLP 96-448x6-1 (1,049,665 parameters), one score",
         (1, 96), _credit, _deep_mlp(96, 448, 6), epochs=40, lr=1e-3, classes=None),
    Spec("lenet5_wide", "LeNet-5 with twice the channels (12, 32) on 28x28 digits",
         (1, 1, 28, 28), _digits28,
         _net(lambda nn: nn.Conv2d(1, 12, 5), lambda nn: nn.ReLU(), lambda nn: nn.AvgPool2d(2),
              lambda nn: nn.Conv2d(12, 32, 5), lambda nn: nn.ReLU(), lambda nn: nn.AvgPool2d(2),
              lambda nn: nn.Flatten(), lambda nn: nn.Linear(512, 120), lambda nn: nn.ReLU(),
              lambda nn: nn.Linear(120, 84), lambda nn: nn.ReLU(), lambda nn: nn.Linear(84, 10)),
         epochs=40, lr=5e-3, classes=DIGIT_CLASSES),
    # wide rather than deep: 16 hidden layers of 448 trained into a constant output here
    Spec("credit_mlp_3m", "credit-scoring MLP 96-1024x4-1 (3,249,153 parameters), one score",
         (1, 96), _credit, _deep_mlp(96, 1024, 4), epochs=20, lr=1e-3, classes=None),
]
