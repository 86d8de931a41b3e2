#!/usr/bin/env python3
"""Benchmark inputs for bench/run_nnunet_bench.sh: the default-size nnU-Net v2 3d_fullres
PlainConvUNet (6 stages, 32-64-128-256-320-320, two 3x3x3 convs per stage, the plan nnU-Net
makes for a 0.5 x 0.5 x 1 mm head CT: patch 128^3) with random weights saved by nnUNetTrainer,
and a head CT volume (the shared GE head, interpolated to S x S x round(200 S / 512)) as NIfTI.

    python3 bench/nnunet/make_bench_case.py OUT --size 512 [--patch 128]
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "oracle"))
from make_nnunet_fixtures import arch, configuration, dataset_json, load_ge_head, make_model, plans  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=512, help="in-plane matrix (512 = full size)")
    ap.add_argument("--patch", type=int, default=128)
    ap.add_argument("--data", default="/work/shared/data")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    import os, tempfile
    tmp = tempfile.mkdtemp()
    for k in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
        os.environ[k] = str(Path(tmp) / k)

    # The volume: HU, [z][y][x], 0.5 mm pixels (scaled with --size), 1 mm slices.
    vol, _ = load_ge_head(Path(a.data))
    nz = max(8, int(round(200 * a.size / 512)))
    zs = np.linspace(0, vol.shape[0] - 1, nz)
    lo = np.floor(zs).astype(int)
    hi = np.minimum(lo + 1, vol.shape[0] - 1)
    w = (zs - lo)[:, None, None]
    v = (1 - w) * vol[lo] + w * vol[hi]
    step = 512 // a.size
    v = v[:, ::step, ::step][:, :a.size, :a.size]
    px = 0.5 * step
    img = sitk.GetImageFromArray(np.round(v).astype(np.int16))
    img.SetSpacing((px, px, 1.0))
    sitk.WriteImage(img, str(out / "ct_0000.nii.gz"))

    p = [a.patch] * 3
    n_stages = 6 if a.patch >= 128 else 5
    feats = [min(32 * 2 ** i, 320) for i in range(n_stages)]
    conf = configuration(p, [1.0, px, px], "CTNormalization", False,
                         {"architecture": arch("PlainConvUNet", feats, [[3, 3, 3]] * n_stages,
                                               [[1, 1, 1]] + [[2, 2, 2]] * (n_stages - 1),
                                               [2] * n_stages, [2] * (n_stages - 1))})
    pl = plans("Dataset999_BenchHead", conf)
    model = make_model(out, "nnUNetTrainer__nnUNetPlans__3d_fullres", pl,
                       dataset_json({"background": 0, "face": 1}), ["all"], 5)
    print(f"volume {v.shape} at ({1.0}, {px}, {px}) mm, model {model}, patch {p}, features {feats}")


if __name__ == "__main__":
    main()
