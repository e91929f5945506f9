#!/usr/bin/env python3
"""PyTorch eager baseline for the g2g CUDA backend: G2GNet as masked dense layers.

784-1024x3-10, G=8 groups, p_intra=1, p'=0.15 (density 0.256), mixer grouping (index,
interleaved, index), ReLU, dense output head, batch 256, Adam(lr 1e-3, weight decay 1e-4),
synthetic data resident on the GPU (like g2g's device-resident dataset). Each sparse layer is
F.linear(x, W * mask, b): dense FLOPs, so this is the "just mask a dense layer" reference point.
Prints training samples/s; compare with `g2g profile --device cuda` (samples/s).

Modes: eager (the default: one Python-issued launch sequence per step) and graphed (the whole
step - forward, loss, backward, Adam with capturable=True - captured once as a CUDA graph
and replayed; the batch is copied into static input tensors first). Graphed is the strongest
PyTorch reference for a launch-bound step like this one; it needs a CUDA device.

usage: python3 benchmarks/pytorch_g2g.py [--steps 300] [--batch 256] [--device cuda:0|cpu] [--model g2g|dense]
                                        [--mode eager|graphed] [--threads N] [--tf32] [--hidden 1024]
With --model dense the layers are plain F.linear (the dense same-width baseline). --hidden sets
the three hidden widths (a multiple of 8; g2g profile --hidden N is the same model).
"""
import argparse
import time

import torch
import torch.nn.functional as F


def group_labels(n, groups, strategy, gen):
    per = n // groups
    idx = torch.arange(n)
    if strategy == "index":
        return idx // per
    if strategy == "interleaved":
        return idx % groups
    if strategy == "random":
        return (idx // per)[torch.randperm(n, generator=gen)]
    raise ValueError(strategy)


def g2g_mask(out_f, in_f, groups, p_intra, p_inter, strategy, gen):
    go = group_labels(out_f, groups, strategy, gen)
    gi = group_labels(in_f, groups, strategy, gen)
    same = go[:, None] == gi[None, :]
    p = torch.where(same, torch.tensor(p_intra), torch.tensor(p_inter))
    return (torch.rand(out_f, in_f, generator=gen) < p).float()


class G2GNet(torch.nn.Module):
    def __init__(self, sizes, groups, p_intra, p_inter, gen, dense=False):
        super().__init__()
        self.dense = dense
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        masks = []
        for k, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
            lin = torch.nn.Linear(i, o)
            self.weights.append(lin.weight)
            self.biases.append(lin.bias)
            last = k == len(sizes) - 2
            strategy = "index" if k % 2 == 0 else "interleaved"  # mixer
            masks.append(torch.ones(o, i) if last else g2g_mask(o, i, groups, p_intra, p_inter, strategy, gen))
        for k, m in enumerate(masks):
            self.register_buffer(f"mask{k}", m)
        self.n = len(masks)

    def forward(self, x):
        for k in range(self.n):
            w = self.weights[k] if self.dense else self.weights[k] * getattr(self, f"mask{k}")
            x = F.linear(x, w, self.biases[k])
            if k < self.n - 1:
                x = F.relu(x)
        return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("--model", default="g2g", choices=["g2g", "dense"])
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = torch's default)")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 matmuls (g2g computes in plain fp32)")
    ap.add_argument("--hidden", type=int, default=1024, help="hidden width (the default model's 1024)")
    ap.add_argument("--mode", default="eager", choices=["eager", "graphed"],
                    help="eager, or the whole training step captured as one CUDA graph and replayed")
    args = ap.parse_args()
    if args.hidden < 8 or args.hidden % 8:
        raise SystemExit(f"--hidden: {args.hidden} is not a positive multiple of 8 (8 groups)")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    dev = torch.device(args.device)
    gen = torch.Generator().manual_seed(1)
    h = args.hidden
    model = G2GNet([784, h, h, h, 10], 8, 1.0, 0.15, gen, dense=args.model == "dense").to(dev)
    density = 1.0 if args.model == "dense" else model.mask1.mean().item()
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
    graphed = args.mode == "graphed"
    if graphed and dev.type != "cuda":
        raise SystemExit("--mode graphed needs a CUDA device")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4, capturable=graphed)
    n = 16384
    images = torch.rand(n, 784, device=dev)
    labels = torch.randint(0, 10, (n,), device=dev)
    per = n // args.batch

    def eager_step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    if graphed:
        # the documented whole-network capture: warm up on a side stream (allocator, autograd
        # and Adam state), then capture one step that reads static input tensors
        static_x = images[:args.batch].clone()
        static_y = labels[:args.batch].clone()
        side = torch.cuda.Stream(dev)
        side.wait_stream(torch.cuda.current_stream(dev))
        with torch.cuda.stream(side):
            for _ in range(3):
                eager_step(static_x, static_y)
        torch.cuda.current_stream(dev).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            static_loss = F.cross_entropy(model(static_x), static_y)
            static_loss.backward()
            opt.step()

    def step(t):
        s = (t % per) * args.batch
        x, y = images[s:s + args.batch], labels[s:s + args.batch]
        if not graphed:
            return eager_step(x, y)
        static_x.copy_(x)
        static_y.copy_(y)
        graph.replay()
        return static_loss

    for t in range(20):
        step(t)
    sync()
    t0 = time.perf_counter()
    for t in range(args.steps):
        loss = step(t)
    sync()
    dt = time.perf_counter() - t0
    where = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"pytorch {args.mode} {args.model} 784-{h}x3-10 (G=8, p'=0.15, mixer, density {density:.3f}), batch {args.batch}, Adam: "
          f"{args.steps * args.batch / dt:.0f} samples/s, {1000 * dt / args.steps:.3f} ms/step, "
          f"torch {torch.__version__}, {where}, tf32={args.tf32}, last loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
