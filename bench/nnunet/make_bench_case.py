#!/usr/bin/env python3
"""Benchmark inputs for bench/run_nnunet_bench.sh: a head CT volume and the 3d_fullres model
nnU-Net v2 plans for it.

The volume: the shared GE head on its regular grid (`ctdeface convert dicom2nifti`: the 18.5 degree
gantry tilt and the uneven slice gaps resolved, 135 x 611 x 512 at 1.08 x 0.49 x 0.49 mm, tilted
axes kept), resampled linearly to S x S x round(200 S / 512) voxels over the same physical box
(for S = 512: 0.73 x 0.58 x 0.49 mm), so the anatomy keeps its true size and the geometric face
region is found as on the DICOM.
The model: nnU-Net's own ExperimentPlanner (default 8 GB target) on a fingerprint of 50 such cases
gives the configuration (for S = 512: PlainConvUNet, 6 stages, 32-64-128-256-320-320), then
nnUNetTrainer saves random weights for it.

    python3 bench/nnunet/make_bench_case.py OUT --source GE_REGULAR.nii.gz --size 512 [--patch P]
    (P: a cubic patch instead of the planned one, for quick runs)
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "oracle"))
from make_nnunet_fixtures import CT_PROPS, arch, configuration, dataset_json, make_model, plans  # noqa: E402


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
    ap.add_argument("--source", required=True, help="the GE head from `ctdeface convert dicom2nifti`")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    import os, tempfile
    tmp = tempfile.mkdtemp()
    for k in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
        os.environ[k] = str(Path(tmp) / k)

    # The volume: the same physical box on an S x S x nz grid, axes (tilt included) unchanged.
    src = sitk.ReadImage(a.source)
    nz = max(8, int(round(200 * a.size / 512)))
    new_size = np.array([a.size, a.size, nz], float)
    old_sp = np.array(src.GetSpacing())
    new_sp = np.array(src.GetSize(), float) * old_sp / new_size
    ref = sitk.Image([a.size, a.size, nz], sitk.sitkInt16)
    ref.SetSpacing(new_sp.tolist())
    ref.SetDirection(src.GetDirection())
    d = np.array(src.GetDirection()).reshape(3, 3)
    ref.SetOrigin((np.array(src.GetOrigin()) + d @ ((new_sp - old_sp) / 2)).tolist())
    img = sitk.Resample(src, ref, sitk.Transform(), sitk.sitkLinear, -1024, sitk.sitkInt16)
    sitk.WriteImage(img, str(out / "ct_0000.nii.gz"))
    v = sitk.GetArrayFromImage(img)
    spacing = [float(new_sp[2]), float(new_sp[1]), float(new_sp[0])]  # [z][y][x], as nnU-Net reads it

    conf, transpose = planned_configuration(list(v.shape), spacing)
    if a.patch:
        n_stages = 6 if a.patch >= 128 else 5
        feats = [min(32 * 2 ** i, 320) for i in range(n_stages)]
        conf = configuration([a.patch] * 3, spacing, "CTNormalization", False,
                             {"architecture": arch("PlainConvUNet", feats, [[3, 3, 3]] * n_stages,
                                                   [[1, 1, 1]] + [[2, 2, 2]] * (n_stages - 1),
                                                   [2] * n_stages, [2] * (n_stages - 1))})
        transpose = [0, 1, 2]
    p = conf["patch_size"]
    feats = conf["architecture"]["arch_kwargs"]["features_per_stage"]
    pl = plans("Dataset999_BenchHead", conf, tuple(transpose))
    model = make_model(out, "nnUNetTrainer__nnUNetPlans__3d_fullres", pl,
                       dataset_json({"background": 0, "face": 1}), ["all"], 5)
    sp = ", ".join(f"{x:.3f}" for x in spacing)
    print(f"volume {v.shape} at ({sp}) mm, model {model}, patch {p}, features {feats}")


if __name__ == "__main__":
    main()
