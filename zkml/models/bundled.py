"""Bundled example models: small networks on datasets scikit-learn ships, with committed weights.

torch training is not bit-reproducible across CPUs (kernels and thread counts change the trained
weights), so every machine proves the weights committed in zkml/models/weights/, not weights
trained at run time. `scripts/train-bundled` (which calls `train`) is how they were made and how
to remake them; the standardisation constants are committed beside them for the same reason.
No downloads: scikit-learn ships these datasets inside the package.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from zkml.errors import ModelError
from zkml.models.base import LoadedModel
from zkml.signature import Signature

SEED = 0
CALIBRATION_SAMPLES = 64
HOLDOUT_SAMPLES = 100
WEIGHTS_PACKAGE = "zkml.models.weights"


@dataclass(frozen=True)
class Dataset:
    """A scikit-learn dataset split and scaled the same way on every machine."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    scaling: dict[str, list[float]] | None  # per-feature mean and std, from the training split


@dataclass(frozen=True)
class Spec:
    """One bundled model: its data, its architecture and how it is trained."""

    name: str
    description: str
    input_shape: tuple[int, ...]
    data: Callable[[dict[str, list[float]] | None], Dataset]
    make_module: Callable[[], Any]
    epochs: int
    lr: float
    classes: list[str] | None  # None: one output, a score (trained as a logit of class 1)


def split(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)


def standardized(load: Callable[..., Any]) -> Callable[[dict | None], Dataset]:
    """Scale features by the training split's mean and deviation.

    Training computes the constants; loading reads the committed ones (a reduction such as a mean
    may round differently on another CPU, an elementwise (x - mean) / std does not).
    """

    def data(scaling: dict[str, list[float]] | None) -> Dataset:
        x_train, x_test, y_train, y_test = split(*load(return_X_y=True))
        if scaling is None:
            scaling = {"mean": x_train.mean(0).tolist(), "std": x_train.std(0).tolist()}
        mean, std = np.asarray(scaling["mean"]), np.asarray(scaling["std"])
        return Dataset(((x_train - mean) / std).astype(np.float32),
                       ((x_test - mean) / std).astype(np.float32), y_train, y_test, scaling)

    return data


def digits_data(shape: tuple[int, ...]) -> Callable[[dict | None], Dataset]:
    """8x8 digit images, pixels scaled to [0, 1], in the model's input shape."""

    def data(scaling: dict[str, list[float]] | None) -> Dataset:
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
        x_train, x_test, y_train, y_test = split(
            (x / 16.0).astype(np.float32).reshape(-1, *shape[1:]), y)
        return Dataset(x_train, x_test, y_train, y_test, None)

    return data


def mlp(*widths: int) -> Callable[[], Any]:
    def make() -> Any:
        import torch

        layers: list[Any] = []
        for n_in, n_out in zip(widths, widths[1:], strict=False):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        return torch.nn.Sequential(*layers[:-1])

    return make


def _cnn(channels: int) -> Callable[[], Any]:
    def make() -> Any:
        import torch

        return torch.nn.Sequential(
            torch.nn.Conv2d(1, channels, kernel_size=3),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
            torch.nn.Linear(channels * 6 * 6, 10),
        )

    return make


def sklearn_loader(loader: str) -> Callable[..., Any]:
    def load(**kwargs: Any) -> Any:
        import sklearn.datasets

        return getattr(sklearn.datasets, loader)(**kwargs)

    return load


DIGIT_CLASSES = [str(d) for d in range(10)]


def breast_cancer_spec(hidden: int = 16) -> Spec:
    return Spec(
        "breast_cancer" if hidden == 16 else f"breast_cancer_h{hidden}",
        f"breast-cancer diagnosis MLP 30-{hidden}-2 (scikit-learn breast_cancer)",
        (1, 30), standardized(sklearn_loader("load_breast_cancer")), mlp(30, hidden, 2),
        epochs=200, lr=1e-2, classes=["malignant", "benign"],
    )


def digits_spec(channels: int = 4) -> Spec:
    return Spec(
        "digits" if channels == 4 else f"digits_c{channels}",
        f"handwritten-digit CNN conv3x3({channels})-relu-dense(10) (scikit-learn digits)",
        (1, 1, 8, 8), digits_data((1, 1, 8, 8)), _cnn(channels), epochs=150, lr=2e-2,
        classes=DIGIT_CLASSES,
    )


SPECS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        breast_cancer_spec(),
        digits_spec(),
        Spec("digits_mlp", "handwritten-digit MLP 64-32-10 (scikit-learn digits)", (1, 64),
             digits_data((1, 64)), mlp(64, 32, 10), epochs=150, lr=1e-2, classes=DIGIT_CLASSES),
        Spec("iris", "iris species MLP 4-8-3 (scikit-learn iris dataset)", (1, 4),
             standardized(sklearn_loader("load_iris")), mlp(4, 8, 3), epochs=300, lr=1e-2,
             classes=["setosa", "versicolor", "virginica"]),
    )
}


def flat(samples: np.ndarray) -> np.ndarray:
    """Samples as subjects' flat rows (zkml.signature)."""
    return samples.reshape(len(samples), -1).astype(np.float64)


def _loaded(spec: Spec, module: Any, data: Dataset, files: list[Path]) -> LoadedModel:
    return LoadedModel(
        name=spec.name,
        description=spec.description,
        signature=Signature.single(spec.input_shape),
        calibration=flat(data.x_train[:CALIBRATION_SAMPLES]),
        holdout=flat(data.x_test[:HOLDOUT_SAMPLES]),
        holdout_labels=None if spec.classes is None else data.y_test[:HOLDOUT_SAMPLES],
        module=module.eval(),
        classes=spec.classes,
        files=files,
    )


def train(spec: Spec) -> tuple[Any, Dataset]:
    """Seed, build, train with full-batch Adam. Results differ slightly between CPUs."""
    import torch

    torch.manual_seed(SEED)
    module = spec.make_module()
    data = spec.data(None)
    xt = torch.from_numpy(data.x_train)
    loss: Callable[..., Any]
    if spec.classes is None:
        yt = torch.from_numpy(data.y_train.astype(np.float32)).reshape(-1, 1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits
    else:
        yt = torch.from_numpy(data.y_train.astype(np.int64))
        loss = torch.nn.functional.cross_entropy
    optimizer = torch.optim.Adam(module.parameters(), lr=spec.lr)
    for _ in range(spec.epochs):
        optimizer.zero_grad()
        loss(module(xt), yt).backward()
        optimizer.step()
    return module.eval(), data


def weights_files(name: str) -> tuple[Path, Path]:
    """The committed state dict and its record (scaling constants, digest) of a bundled model."""
    root = resources.files(WEIGHTS_PACKAGE)
    return Path(str(root / f"{name}.pt")), Path(str(root / f"{name}.json"))


def save(spec: Spec, module: Any, data: Dataset) -> Path:
    """Write a trained model's weights and record into the package (scripts/train-bundled)."""
    import torch

    weights, record = weights_files(spec.name)
    torch.save(module.state_dict(), weights)
    record.write_text(json.dumps({
        "name": spec.name,
        "description": spec.description,
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "scaling": data.scaling,
    }, indent=2) + "\n")
    return weights


def load(spec: Spec) -> LoadedModel:
    """The bundled model with its committed weights: the same model on every machine."""
    import torch

    weights, record_path = weights_files(spec.name)
    if not weights.is_file() or not record_path.is_file():
        # sweep variants of other sizes have no committed weights: trained here, for benchmarks
        module, data = train(spec)
        return _loaded(spec, module, data, [])
    record = json.loads(record_path.read_text())
    if hashlib.sha256(weights.read_bytes()).hexdigest() != record["weights_sha256"]:
        raise ModelError(f"{weights} does not match its recorded digest",
                         hint="reinstall zkml, or regenerate with scripts/train-bundled")
    module = spec.make_module()
    module.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return _loaded(spec, module, spec.data(record["scaling"]), [weights])
