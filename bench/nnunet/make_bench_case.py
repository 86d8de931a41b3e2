#!/usr/bin/env python3
"""Benchmark inputs for bench/run_nnunet_bench.sh: a head CT volume (the shared GE head,
interpolated to S x S x round(200 S / 512) at 0.5 x 0.5 x 1 mm for S = 512) as NIfTI, and the
3d_fullres model nnU-Net v2 plans for it: its own ExperimentPlanner (default 8 GB target) on a
fingerprint of 50 such cases gives the configuration (for 512: PlainConvUNet, 6 stages,
32-64-128-256-320-320, patch 64 x 192 x 160, first kernel 1x3x3), then nnUNetTrainer saves random
weights for it.

    python3 bench/nnunet/make_bench_case.py OUT --size 512 [--patch P]   (P: cubic patch instead)
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "oracle"))
from make_nnunet_fixtures import (CT_PROPS, arch, configuration, dataset_json, load_ge_head, make_model,  # noqa: E402
                                  plans)


def planned_configuration(shape, spacing):
    """nnU-Net's ExperimentPlanner on a dataset of 50 cases like this one: its 3d_fullres
    configuration (JSON-ready) and transpose_forward."""
    import json, os
    from nnunetv2.experiment_planning.experiment_planners.default_experiment_planner import ExperimentPlanner
    name = "Dataset999_BenchHead"
    raw = Path(os.environ["nnUNet_raw"]) / name
    (raw / "imagesTr").mkdir(parents=True, exist_ok=True)
    (raw / "labelsTr").mkdir(exist_ok=True)
    (raw / "dataset.json").write_text(json.dumps(dataset_json({"background": 0, "face": 1}) | {"numTraining": 50}))
    pre = Path(os.environ["nnUNet_preprocessed"]) / name
    pre.mkdir(parents=True, exist_ok=True)
    (pre / "dataset_fingerprint.json").write_text(json.dumps({
        "spacings": [spacing] * 50, "shapes_after_crop": [shape] * 50, "median_relative_size_after_cropping": 1.0,
        "foreground_intensity_properties_per_channel": {"0": CT_PROPS}}))
    planner = ExperimentPlanner(name)
    tf, _ = planner.determine_transpose()
    target = planner.determine_fullres_target_spacing()
    conf = planner.get_plans_for_configuration(target[tf], np.array(shape, float)[tf],
                                               planner.generate_data_identifier("3d_fullres"),
                                               float(np.prod(shape)) * 50, {})
    conf["batch_dice"] = False  # plan_experiment's choice when no 3d_lowres is needed (training only)
    # numpy values -> JSON, as save_plans does.
    conf = json.loads(json.dumps(conf, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
    return conf, [int(i) for i in tf]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=512, help="in-plane matrix (512 = full size)")
    ap.add_argument("--patch", type=int, default=0, help="cubic patch instead of the planned one (quick runs)")
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

    conf, transpose = planned_configuration(list(v.shape), [1.0, px, px])
    if a.patch:
        n_stages = 6 if a.patch >= 128 else 5
        feats = [min(32 * 2 ** i, 320) for i in range(n_stages)]
        conf = configuration([a.patch] * 3, [1.0, px, px], "CTNormalization", False,
                             {"architecture": arch("PlainConvUNet", feats, [[3, 3, 3]] * n_stages,
                                                   [[1, 1, 1]] + [[2, 2, 2]] * (n_stages - 1),
                                                   [2] * n_stages, [2] * (n_stages - 1))})
        transpose = [0, 1, 2]
    p = conf["patch_size"]
    feats = conf["architecture"]["arch_kwargs"]["features_per_stage"]
    pl = plans("Dataset999_BenchHead", conf, tuple(transpose))
    model = make_model(out, "nnUNetTrainer__nnUNetPlans__3d_fullres", pl,
                       dataset_json({"background": 0, "face": 1}), ["all"], 5)
    print(f"volume {v.shape} at ({1.0}, {px}, {px}) mm, model {model}, patch {p}, features {feats}")


if __name__ == "__main__":
    main()
