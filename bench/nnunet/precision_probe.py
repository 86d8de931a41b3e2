#!/usr/bin/env python3
"""Would reduced-precision convolutions keep nnU-Net's masks? (issue 4/7's BF16 / int8 question)

Runs the benchmark model (bench/run_nnunet_bench.sh's case) on some of nnU-Net's own sliding-window
tiles of the benchmark CT, once in float32 and once per mode with the convolutions' inputs and
weights rounded as a reduced-precision kernel would see them (accumulation stays float32, as in
oneDNN's bf16 and int8 kernels), and prints the argmax agreement per tile. Also prints the
network's arithmetic per tile, from which the engine's sustained GFLOP/s follows.

Modes:
  bf16      inputs and weights rounded to bfloat16 (oneDNN fpmath_mode::bf16 / AVX512-BF16 / AMX)
  int8      post-training int8 at its most favourable: per-output-channel weight scales, per-tile
            asymmetric uint8 activations (exact min/max of each tile: no calibration error),
            first convolution and 1x1 segmentation head kept in float32
  int8-sym  the same with symmetric int8 activations

    python3 bench/nnunet/precision_probe.py WORK [--tiles 4] [--modes bf16,int8,int8-sym] [--flops-only]
    (WORK: bench/run_nnunet_bench.sh's work folder, e.g. build/bench-nnunet-512-planned)
"""
import argparse
import json
import os
from pathlib import Path

for var in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
    os.environ.setdefault(var, "/tmp")

import numpy as np  # noqa: E402
import torch  # noqa: E402


def load(work: Path):
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    pred = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=False, device=torch.device("cpu"),
                           verbose=False, verbose_preprocessing=False)
    pred.initialize_from_trained_model_folder(str(work / "nnUNetTrainer__nnUNetPlans__3d_fullres"), ("all",),
                                              "checkpoint_final.pth")
    return pred


def gflop_per_tile(net, patch):
    """Multiply-adds of every (transposed) convolution for one tile, times two."""
    total = [0]

    def hook(m, inp, out):
        k = int(np.prod(m.kernel_size))
        if isinstance(m, (torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)):
            total[0] += 2 * inp[0].numel() * m.out_channels * k
        else:
            total[0] += 2 * out.numel() * m.in_channels * k // m.groups

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
    with torch.no_grad():
        net(torch.zeros([1, net_in_channels(net)] + list(patch)))
    for h in hooks:
        h.remove()
    return total[0] / 1e9


def net_in_channels(net):
    return next(m for m in net.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)).in_channels


def round_activation(t, mode):
    if mode == "bf16":
        return t.to(torch.bfloat16).float()
    if mode == "int8":
        lo, hi = t.amin(), t.amax()
        s = torch.clamp((hi - lo) / 255.0, min=1e-12)
        zp = torch.round(-lo / s)
        return (torch.clamp(torch.round(t / s) + zp, 0, 255) - zp) * s
    s = torch.clamp(t.abs().amax() / 127.0, min=1e-12)
    return torch.clamp(torch.round(t / s), -127, 127) * s


def round_weight(w, mode, out_dim):
    if mode == "bf16":
        return w.to(torch.bfloat16).float()
    other = [d for d in range(w.dim()) if d != out_dim]
    s = torch.clamp(w.abs().amax(dim=other, keepdim=True) / 127.0, min=1e-12)
    return torch.clamp(torch.round(w / s), -127, 127) * s


class Rounding:
    """Context: the network's convolutions see rounded inputs and weights."""

    def __init__(self, net, mode):
        self.mode = mode
        self.convs = [m for m in net.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
        self.saved, self.hooks = {}, []

    def __enter__(self):
        first = self.convs[0]
        for m in self.convs:
            int8_keeps_float = m is first or all(k == 1 for k in m.kernel_size)
            if self.mode != "bf16" and int8_keeps_float:
                continue
            transposed = isinstance(m, (torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d))
            self.saved[m] = m.weight.data
            m.weight.data = round_weight(m.weight.data, self.mode, 1 if transposed else 0)
            self.hooks.append(m.register_forward_pre_hook(lambda mod, inp: (round_activation(inp[0], self.mode),)))
        return self

    def __exit__(self, *exc):
        for h in self.hooks:
            h.remove()
        for m, w in self.saved.items():
            m.weight.data = w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work", type=Path)
    ap.add_argument("--tiles", type=int, default=4)
    ap.add_argument("--modes", default="bf16,int8,int8-sym")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--flops-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    pred = load(args.work)
    net = pred.network.eval()
    patch = pred.configuration_manager.patch_size
    g = gflop_per_tile(net, patch)
    if args.flops_only:
        print(f"{g:.1f}")
        return
    print(f"network: {g:.1f} GFLOP per {'x'.join(map(str, patch))} tile")

    from nnunetv2.inference.sliding_window_prediction import compute_steps_for_sliding_window
    pre = pred.configuration_manager.preprocessor_class(verbose=False)
    data, _, _ = pre.run_case([str(args.work / "ct_0000.nii.gz")], None, pred.plans_manager,
                              pred.configuration_manager, pred.dataset_json)
    data = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))
    steps = compute_steps_for_sliding_window(data.shape[1:], patch, 0.5)
    grid = [(z, y, x) for z in steps[0] for y in steps[1] for x in steps[2]]
    picked = [grid[i] for i in np.linspace(0, len(grid) - 1, min(args.tiles, len(grid))).round().astype(int)]
    print(f"preprocessed image {tuple(data.shape[1:])}, {len(grid)} tiles; probing {len(picked)} of them")

    summary = {}
    for mode in args.modes.split(","):
        same = total = 0
        worst = 0.0
        for (z, y, x) in picked:
            tile = data[None, :, z:z + patch[0], y:y + patch[1], x:x + patch[2]]
            with torch.no_grad():
                ref = net(tile)
                with Rounding(net, mode):
                    low = net(tile)
            a, b = ref.argmax(1), low.argmax(1)
            dp = (torch.softmax(ref, 1) - torch.softmax(low, 1)).abs().max().item()
            top2 = ref.topk(2, dim=1).values
            margin = (top2[:, 0] - top2[:, 1]).median().item()
            n, k = a.numel(), (a == b).sum().item()
            same, total, worst = same + k, total + n, max(worst, dp)
            print(f"  {mode:8} tile at {z},{y},{x}: argmax agreement {k / n:.6f}, max |dp| {dp:.4f}, "
                  f"median float32 logit margin {margin:.3f}", flush=True)
        summary[mode] = {"agreement": same / total, "max_abs_dprob": worst}
        print(f"{mode}: argmax agreement {same / total:.6f} over {total} voxels (goal >= 0.999), max |dp| {worst:.4f}")
    (args.work / "precision_probe.json").write_text(json.dumps({"gflop_per_tile": g, "modes": summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
