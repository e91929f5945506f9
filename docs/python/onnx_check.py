#!/usr/bin/env python3
"""Run a `g2g export --format onnx` model in onnxruntime on a dataset's test set; print its accuracy.

    pip install numpy onnxruntime safetensors
    ./g2g export --run runs/<run> --format onnx
    python3 docs/python/onnx_check.py runs/<run>/model.onnx runs/<run>/model.safetensors /usr/share/datasets/fashion-mnist

The graph holds the standardisation (and the patch encoder), so the input is pixel / 255.
"""
import sys

import numpy as np
import onnxruntime as ort

from g2g_model import load_model, load_test_set


def main():
    onnx_file, model_file = sys.argv[1], sys.argv[2]
    data_dir = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/datasets/fashion-mnist"
    meta, _, _ = load_model(model_file)
    x_raw, y = load_test_set(data_dir, meta)
    x = x_raw.astype(np.float32) / np.float32(meta["input_divisor"])
    sess = ort.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
    logits, prob = sess.run(["logits", "probabilities"], {"pixels": x})
    pred = logits.argmax(axis=1)
    print(f"onnxruntime {ort.__version__}: test accuracy {100 * (pred == y).mean():.2f}% ({len(y)} images), "
          f"probabilities sum to 1 within {np.abs(prob.sum(axis=1) - 1).max():.1e}")


if __name__ == "__main__":
    main()
