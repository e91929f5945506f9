#!/usr/bin/env python3
"""Load a g2g model.safetensors and evaluate it with numpy and with PyTorch, without g2g.

    pip install numpy torch safetensors
    python3 docs/python/g2g_model.py runs/<run>/model.safetensors /usr/share/datasets/fashion-mnist

Everything needed comes from the file's metadata (see docs/python-example.md): input shape and
scaling, the standardisation statistics, the widths, the activation and the class names.
The second argument is a directory with the dataset's test files (IDX, gzip or raw, or a CIFAR
binary test batch).
"""
import gzip
import json
import os
import sys

import numpy as np
from safetensors import safe_open


# metadata values that are JSON text (safetensors metadata is string -> string)
JSON_KEYS = {"input_shape", "input_divisor", "standardize_mean", "standardize_std", "widths", "depth",
             "groups", "class_names", "config"}


def load_model(path):
    """Metadata (JSON values decoded) and the (weight, bias) pairs of every layer."""
    with safe_open(path, framework="numpy") as f:
        meta = {k: json.loads(v) if k in JSON_KEYS else v for k, v in f.metadata().items()}
        layers = [(f.get_tensor(f"layers.{l}.weight"), f.get_tensor(f"layers.{l}.bias"))
                  for l in range(meta["depth"])]
        encoder = (f.get_tensor("encoder.weight"), f.get_tensor("encoder.bias")) if meta["encoder"] == "patch" else None
    assert meta["format"] == "g2g-model-1", meta["format"]
    assert meta["activation"] == "relu" and meta["output"] == "logits"
    return meta, encoder, layers


def read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def load_test_set(data_dir, meta):
    """Test images as uint8 (n, C*H*W) in the model's input order, and their labels."""
    c, h, w = meta["input_shape"]
    if meta["dataset"] in ("cifar10", "cifar100"):
        sub = "cifar-10-batches-bin" if meta["dataset"] == "cifar10" else "cifar-100-binary"
        name = "test_batch.bin" if meta["dataset"] == "cifar10" else "test.bin"
        path = next(p for p in (os.path.join(data_dir, name), os.path.join(data_dir, sub, name)) if os.path.exists(p))
        label_bytes = 1 if meta["dataset"] == "cifar10" else 2
        rec = np.frombuffer(read_bytes(path), np.uint8).reshape(-1, label_bytes + c * h * w)
        return rec[:, label_bytes:], rec[:, label_bytes - 1].astype(np.int64)  # fine label last
    def find(stem):
        for p in (stem + ".gz", stem):
            if os.path.exists(os.path.join(data_dir, p)):
                return os.path.join(data_dir, p)
        raise FileNotFoundError(os.path.join(data_dir, stem))
    images = read_bytes(find("t10k-images-idx3-ubyte"))
    labels = read_bytes(find("t10k-labels-idx1-ubyte"))
    n = int.from_bytes(images[4:8], "big")
    x = np.frombuffer(images, np.uint8, offset=16).reshape(n, c * h * w)
    return x, np.frombuffer(labels, np.uint8, offset=8).astype(np.int64)


def preprocess(x_uint8, meta):
    """pixels / 255 (float32), then (x - mean) / std when the model was trained standardised."""
    x = x_uint8.astype(np.float32) / np.float32(meta["input_divisor"])
    if meta["standardize"] != "none":
        x = (x - np.asarray(meta["standardize_mean"], np.float32)) / np.asarray(meta["standardize_std"], np.float32)
    return x


def encode_numpy(x, meta, encoder):
    """The patch encoder: a convolution with kernel = stride = patch size, ReLU, then the features
    patch by patch (row-major over the grid), all channels of a patch together."""
    w, b = encoder                           # out x C x ph x pw
    c, h, wd = meta["input_shape"]
    rows, cols = (int(v) for v in meta["encoder.patches"].split("x"))
    img = x.reshape(-1, c, rows, h // rows, cols, wd // cols)
    z = np.einsum("bcrysx,ocyx->brso", img, w) + b
    return np.maximum(z, 0).reshape(len(x), -1)


def forward_numpy(x, layers):
    for l, (w, b) in enumerate(layers):
        x = x @ w.T + b                      # w is out x in, zero off the mask
        if l < len(layers) - 1:
            x = np.maximum(x, 0)             # ReLU on hidden layers; the last layer gives logits
    return x


def torch_model(meta, encoder, layers):
    import torch
    mods = []
    if encoder is not None:
        w, b = encoder
        c, h, wd = meta["input_shape"]
        conv = torch.nn.Conv2d(w.shape[1], w.shape[0], kernel_size=w.shape[2:], stride=w.shape[2:])
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w))
            conv.bias.copy_(torch.from_numpy(b))
        mods += [torch.nn.Unflatten(1, (c, h, wd)), conv, torch.nn.ReLU(),
                 torch.nn.Flatten(2), Transpose(), torch.nn.Flatten(1)]  # (B, O, R*C) -> patch-major
    for l, (w, b) in enumerate(layers):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
        if l < len(layers) - 1:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods).eval()


class Transpose(__import__("torch").nn.Module):
    def forward(self, z):
        return z.transpose(1, 2)


def main():
    model_file = sys.argv[1]
    data_dir = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    meta, encoder, layers = load_model(model_file)
    x_raw, y = load_test_set(data_dir, meta)
    x = preprocess(x_raw, meta)
    print(f"model: {meta['model']} widths {meta['widths']} trained on {meta['dataset']} "
          f"(standardize {meta['standardize']}, g2g {meta['g2g_version']}, config {meta['config_sha256'][:12]})")
    h = x if encoder is None else encode_numpy(x, meta, encoder)
    pred = forward_numpy(h, layers).argmax(axis=1)
    print(f"numpy:   test accuracy {100 * (pred == y).mean():.2f}% ({len(y)} images)")
    import torch
    with torch.no_grad():
        logits = torch_model(meta, encoder, layers)(torch.from_numpy(x))
        prob = torch.softmax(logits, dim=1)
    tp = logits.argmax(dim=1).numpy()
    print(f"PyTorch: test accuracy {100 * (tp == y).mean():.2f}% ({len(y)} images)")
    names = meta["class_names"]
    print("first image: " + names[int(tp[0])] + f" (p = {prob[0, tp[0]]:.3f}), true " + names[int(y[0])])


if __name__ == "__main__":
    main()
