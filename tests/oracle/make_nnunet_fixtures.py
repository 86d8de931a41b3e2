#!/usr/bin/env python3
"""Creates the nnU-Net v2 parity fixtures under tests/fixtures/nnunet/ (run by hand, not in CI).

Each model is a results folder exactly as nnU-Net writes it (dataset.json, plans.json,
fold_*/checkpoint_final.pth): the checkpoint is written by nnUNetTrainer.save_checkpoint itself
after trainer.initialize(), with random weights from fixed seeds (norm affine parameters and
biases perturbed so that every parameter matters). nnU-Net's own nnUNetPredictor then predicts
real CT input (crops of the shared GE head) with and without mirroring TTA, and the inputs,
expected probabilities and segmentations are stored for the C++ tests (tests/nnunet/).

Needs: torch==2.13.0 (CPU), nnunetv2, pydicom.  Usage:
    python3 tests/oracle/make_nnunet_fixtures.py [--data /work/shared/data] [--out tests/fixtures/nnunet]
"""
import argparse
import copy
import glob
import gzip
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pydicom
import torch

HERE = Path(__file__).resolve().parent


def load_ge_head(data_root: Path) -> tuple[np.ndarray, float]:
    """HU volume [k][j][i] of the GE head, slices sorted along the normal, and its pixel spacing."""
    files = [pydicom.dcmread(f) for f in sorted(glob.glob(str(data_root / "ct-head-ge-tilt" / "*.dcm")))]
    iop = np.array(files[0].ImageOrientationPatient, float)
    n = np.cross(iop[:3], iop[3:])
    files.sort(key=lambda d: float(np.dot(n, np.array(d.ImagePositionPatient, float))))
    vol = np.stack([d.pixel_array.astype(np.float32) * float(d.RescaleSlope) + float(d.RescaleIntercept)
                    for d in files])
    return vol, float(files[0].PixelSpacing[0])


CT_PROPS = {"max": 2121.0, "mean": 35.5, "median": 28.0, "min": -1500.0,
            "percentile_00_5": -980.0, "percentile_99_5": 1200.0, "std": 310.0}


def arch(cls: str, features, kernels, strides, n_enc, n_dec, dim=3):
    conv = "torch.nn.modules.conv.Conv3d" if dim == 3 else "torch.nn.modules.conv.Conv2d"
    norm = "torch.nn.modules.instancenorm.InstanceNorm3d" if dim == 3 else "torch.nn.modules.instancenorm.InstanceNorm2d"
    if cls == "PlainConvUNet":
        name, enc_key = "dynamic_network_architectures.architectures.unet.PlainConvUNet", "n_conv_per_stage"
    else:
        name, enc_key = "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet", "n_blocks_per_stage"
    return {"network_class_name": name,
            "arch_kwargs": {"n_stages": len(features), "features_per_stage": features, "conv_op": conv,
                            "kernel_sizes": kernels, "strides": strides, enc_key: n_enc,
                            "n_conv_per_stage_decoder": n_dec, "conv_bias": True, "norm_op": norm,
                            "norm_op_kwargs": {"eps": 1e-05, "affine": True}, "dropout_op": None,
                            "dropout_op_kwargs": None, "nonlin": "torch.nn.LeakyReLU",
                            "nonlin_kwargs": {"inplace": True}},
            "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"]}


def configuration(patch, spacing, norm, use_mask, architecture):
    c = {"data_identifier": "nnUNetPlans_3d_fullres", "preprocessor_name": "DefaultPreprocessor",
         "batch_size": 2, "patch_size": patch, "median_image_size_in_voxels": [200, 420, 420],
         "spacing": spacing, "normalization_schemes": [norm], "use_mask_for_norm": [use_mask],
         "resampling_fn_data": "resample_data_or_seg_to_shape",
         "resampling_fn_seg": "resample_data_or_seg_to_shape",
         "resampling_fn_data_kwargs": {"is_seg": False, "order": 3, "order_z": 0, "force_separate_z": None},
         "resampling_fn_seg_kwargs": {"is_seg": True, "order": 1, "order_z": 0, "force_separate_z": None},
         "resampling_fn_probabilities": "resample_data_or_seg_to_shape",
         "resampling_fn_probabilities_kwargs": {"is_seg": False, "order": 1, "order_z": 0,
                                                "force_separate_z": None},
         "batch_dice": False}
    c.update(architecture)
    return c


def plans(name, conf, transpose=(0, 1, 2)):
    back = [int(i) for i in np.argsort(transpose)]
    return {"dataset_name": name, "plans_name": "nnUNetPlans",
            "original_median_spacing_after_transp": conf["spacing"],
            "original_median_shape_after_transp": [200, 420, 420],
            "image_reader_writer": "SimpleITKIO", "transpose_forward": list(transpose),
            "transpose_backward": back, "configurations": {"3d_fullres": conf},
            "experiment_planner_used": "ExperimentPlanner", "label_manager": "LabelManager",
            "foreground_intensity_properties_per_channel": {"0": CT_PROPS}}


def old_layout(conf):
    """The same configuration in the layout before nnU-Net 2.4 (UNet_class_name & co.)."""
    c = {k: v for k, v in conf.items() if k not in ("architecture",)}
    a = conf["architecture"]["arch_kwargs"]
    c.update({"UNet_class_name": conf["architecture"]["network_class_name"].split(".")[-1],
              "UNet_base_num_features": a["features_per_stage"][0],
              "n_conv_per_stage_encoder": a.get("n_conv_per_stage", a.get("n_blocks_per_stage")),
              "n_conv_per_stage_decoder": a["n_conv_per_stage_decoder"],
              "num_pool_per_axis": [3, 3, 3], "pool_op_kernel_sizes": a["strides"],
              "conv_kernel_sizes": a["kernel_sizes"], "unet_max_num_features": a["features_per_stage"][-1]})
    return c


def dataset_json(labels):
    return {"channel_names": {"0": "CT"}, "labels": labels, "numTraining": 1, "file_ending": ".nii.gz",
            "name": "DEFACE fixture", "description": "random-weight nnU-Net fixture for ctdeface's parity tests"}


def save_checkpoint(p: dict, dj: dict, fold, seed: int, dest: Path, mirror_axes):
    """Builds nnUNetTrainer from the plans, initializes it (random weights) and lets it save its checkpoint."""
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
    torch.manual_seed(seed)
    np.random.seed(seed)
    tp = copy.deepcopy(p)
    tp["continue_training"] = False  # run_training.py sets this before building the trainer
    # initialize() infers the dataset class from the preprocessed folder: give it one (empty) case file.
    pre = Path(os.environ["nnUNet_preprocessed"]) / p["dataset_name"] / "nnUNetPlans_3d_fullres"
    pre.mkdir(parents=True, exist_ok=True)
    (pre / "case.b2nd").touch()
    trainer = nnUNetTrainer(tp, "3d_fullres", fold, copy.deepcopy(dj), device=torch.device("cpu"))
    trainer.initialize()
    trainer.configure_rotation_dummyDA_mirroring_and_inital_patch_size()
    if mirror_axes is not None:
        trainer.inference_allowed_mirroring_axes = mirror_axes
    g = torch.Generator().manual_seed(seed + 1000)
    with torch.no_grad():
        for name, t in trainer.network.state_dict().items():
            if t.dtype.is_floating_point and ("norm" in name or name.endswith("bias")):
                t += 0.2 * torch.randn(t.shape, generator=g)
    trainer.current_epoch = 999
    dest.mkdir(parents=True, exist_ok=True)
    trainer.save_checkpoint(str(dest / "checkpoint_final.pth"))


def make_model(out: Path, name: str, p: dict, dj: dict, folds, seed: int, mirror_axes=None, plans_on_disk=None):
    folder = out / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "plans.json").write_text(json.dumps(plans_on_disk or p, indent=4))
    (folder / "dataset.json").write_text(json.dumps(dj, indent=4))
    for i, f in enumerate(folds):
        save_checkpoint(p, dj, f, seed + 17 * i, folder / f"fold_{f}", mirror_axes)
    return folder


def write_gz(path: Path, arr: np.ndarray):
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(np.ascontiguousarray(arr).tobytes())


def predict(folder: Path, folds, image: np.ndarray, spacing, tta: bool):
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    pred = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=tta,
                           perform_everything_on_device=False, device=torch.device("cpu"), verbose=False,
                           allow_tqdm=False)
    pred.initialize_from_trained_model_folder(str(folder), use_folds=folds, checkpoint_name="checkpoint_final.pth")
    seg, probs = pred.predict_single_npy_array(image[None].astype(np.float32), {"spacing": list(spacing)},
                                               None, None, True)
    return seg.astype(np.uint8), probs.astype(np.float32)


def make_array_fixtures(out: Path, vol: np.ndarray):
    """Small arrays through nnU-Net's own preprocessing/inference helpers, for step-by-step tests."""
    from nnunetv2.inference.sliding_window_prediction import compute_gaussian, compute_steps_for_sliding_window
    from nnunetv2.preprocessing.cropping.cropping import crop_to_nonzero
    from nnunetv2.preprocessing.normalization.default_normalization_schemes import (
        CTNormalization, ZScoreNormalization, RescaleTo01Normalization)
    from nnunetv2.preprocessing.resampling.default_resampling import compute_new_shape, resample_data_or_seg_to_shape
    from skimage.transform import resize

    rng = np.random.RandomState(7)
    ct = vol[3:10, 200:209, 180:191].astype(np.float32)         # 7 x 9 x 11 real HU
    cases = []

    def add(name, **kw):
        kw = {k: (v.ravel().tolist() if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        cases.append({"name": name, **kw})

    for order, shape in ((3, (10, 6, 13)), (1, (4, 12, 8)), (3, (7, 9, 11)), (0, (5, 13, 7))):
        r = resize(ct.astype(float), shape, order, mode="edge", anti_aliasing=False)
        add(f"skimage_resize_order{order}", input=ct, in_shape=list(ct.shape), out_shape=list(shape),
            order=order, expected=r)
    flat = rng.randn(1, 9, 10).astype(np.float32) * 50          # a 2D slice as 1 x H x W
    add("skimage_resize_2d", input=flat, in_shape=[1, 9, 10], out_shape=[1, 14, 6], order=3,
        expected=resize(flat[0].astype(float), (14, 6), 3, mode="edge", anti_aliasing=False)[None])
    # nnU-Net's resampling: isotropic (one 3D resize) and anisotropic (separate z, order_z 0).
    for name, cur, tgt in (("iso", [1.5, 1.0, 1.2], [1.0, 1.4, 0.9]), ("aniso", [4.0, 0.5, 0.5], [5.0, 0.7, 0.6]),
                           ("aniso_target", [1.0, 0.8, 0.8], [3.5, 0.8, 0.5])):
        ns = compute_new_shape(ct.shape, cur, tgt)
        r = resample_data_or_seg_to_shape(ct[None], ns, cur, tgt, is_seg=False, order=3, order_z=0,
                                          force_separate_z=None)
        add(f"nnunet_resample_{name}", input=ct, in_shape=list(ct.shape), current=cur, target=tgt,
            new_shape=[int(i) for i in ns], order=3, order_z=0, expected=r[0].astype(np.float64))
        r1 = resample_data_or_seg_to_shape(ct[None], ns, cur, tgt, is_seg=False, order=1, order_z=0,
                                           force_separate_z=None)
        add(f"nnunet_resample_{name}_order1", input=ct, in_shape=list(ct.shape), current=cur, target=tgt,
            new_shape=[int(i) for i in ns], order=1, order_z=0, expected=r1[0].astype(np.float64))
    # crop_to_nonzero: zero frame and an enclosed zero hole (filled).
    img = ct.copy() + 2000
    img[:, :2, :] = 0
    img[:, :, 9:] = 0
    img[0] = 0
    img[3, 4, 4] = 0
    d, seg, bbox = crop_to_nonzero(img[None])
    add("crop_to_nonzero", input=img, in_shape=list(img.shape), bbox=[[int(a), int(b)] for a, b in bbox],
        mask=(seg[0] >= 0).astype(np.uint8))
    props = {"mean": 35.5, "std": 310.0, "percentile_00_5": -980.0, "percentile_99_5": 1200.0}
    add("CTNormalization", input=ct, expected=CTNormalization(False, props).run(ct.copy()))
    add("ZScoreNormalization", input=ct, expected=ZScoreNormalization(False, {}).run(ct.copy()))
    add("ZScoreNormalization_masked", input=d[0], mask=(seg[0] >= 0).astype(np.uint8),
        expected=ZScoreNormalization(True, {}).run(d[0].copy(), seg[0]))
    add("RescaleTo01Normalization", input=ct, expected=RescaleTo01Normalization(False, {}).run(ct.copy()))
    for tile in ((16, 32, 32), (8, 12, 10), (128, 128, 128), (20, 24)):
        g = compute_gaussian(tile, sigma_scale=1. / 8, value_scaling_factor=10, device=torch.device("cpu"))
        g = g.float().numpy().ravel()
        # Large maps: a sample of voxels (corners, centre and random ones) keeps the file small.
        idx = np.unique(np.concatenate([[0, g.size - 1, g.size // 2, int(np.argmin(g))],
                                        rng.randint(0, g.size, 600)])) if g.size > 5000 else np.arange(g.size)
        add(f"gaussian_{'x'.join(map(str, tile))}", tile=list(tile), index=idx.astype(np.int64),
            expected=g[idx])
    for image, tile, step in (((27, 43, 43), (16, 32, 32), 0.5), ((110, 64, 200), (64, 64, 64), 0.5),
                              ((200, 450, 451), (128, 128, 128), 0.5), ((33, 70, 70), (16, 32, 32), 0.33),
                              ((40, 40, 40), (40, 40, 40), 1.0)):
        add(f"steps_{'x'.join(map(str, image))}", image=list(image), tile=list(tile), step=step,
            steps=compute_steps_for_sliding_window(image, tile, step))
    (out / "arrays.json").write_text(json.dumps({"generator": "tests/oracle/make_nnunet_fixtures.py",
                                                 "cases": cases}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--out", default=str(HERE.parent / "fixtures" / "nnunet"))
    ap.add_argument("--arrays-only", action="store_true", help="only the step-by-step array fixtures")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.arrays_only:
        make_array_fixtures(out, load_ge_head(Path(args.data))[0])
        return

    tmp = Path(tempfile.mkdtemp(prefix="nnunet-fixtures-"))
    for k in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
        os.environ[k] = str(tmp / k)
    torch.set_num_threads(2)

    vol, px = load_ge_head(Path(args.data))
    make_array_fixtures(out, vol)
    # Low-resolution copy (every 4th pixel, 1.95 mm) and a full-resolution crop, both over the
    # face: the lowest 20 slices (orbits, nose), anterior rows. The slice gap stated is 4 mm
    # (the thin part of this stack); nnU-Net only sees an array and a spacing.
    low = vol[:20, 0:192:4, 128:320:4].copy()          # 20 x 48 x 48 at (4, 1.95, 1.95)
    low_sp = (4.0, px * 4, px * 4)
    full = vol[:20, 40:88, 200:248].copy()              # 20 x 48 x 48 at (4, 0.49, 0.49)
    full_sp = (4.0, px, px)
    framed = low.copy()                                 # zero frame: crop_to_nonzero has work to do
    framed[:2] = 0
    framed[:, :5, :] = 0
    framed[:, :, -7:] = 0

    two = {"background": 0, "face": 1}
    three = {"background": 0, "Face": 1, "ears": 2}
    k3 = [[3, 3, 3]] * 4
    models = {}

    conf = configuration([16, 32, 32], [3.0, 2.2, 2.2], "CTNormalization", False,
                         {"architecture": arch("PlainConvUNet", [4, 8, 16, 32], k3,
                                               [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2]], [2, 2, 2, 2], [2, 2, 2])})
    p = plans("Dataset901_PlainFixture", conf)
    models["plain3d"] = (make_model(out, "plain3d", p, dataset_json(two), ["all"], 11), ["all"])

    conf = configuration([24, 32, 32], [4.0, px * 4, px * 4], "CTNormalization", False,
                         {"architecture": arch("PlainConvUNet", [4, 8, 16, 32], k3,
                                               [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2]], [2, 2, 2, 2], [2, 2, 2])})
    p = plans("Dataset902_EnsembleFixture", conf)
    models["ensemble2"] = (make_model(out, "ensemble2", p, dataset_json(two), [0, 1], 23), [0, 1])

    conf = configuration([8, 32, 32], [5.0, 0.7, 0.7], "CTNormalization", False,
                         {"architecture": arch("PlainConvUNet", [4, 8, 16, 32],
                                               [[1, 3, 3], [1, 3, 3], [3, 3, 3], [3, 3, 3]],
                                               [[1, 1, 1], [1, 2, 2], [2, 2, 2], [1, 2, 2]], [2, 2, 2, 2], [2, 2, 2])})
    p = plans("Dataset903_AnisoFixture", conf)
    p_old = plans("Dataset903_AnisoFixture", old_layout(conf))
    models["aniso"] = (make_model(out, "aniso", p, dataset_json(two), ["all"], 37, mirror_axes=(1, 2),
                                  plans_on_disk=p_old), ["all"])

    # transpose_forward [0, 2, 1]: target spacing is given after the transpose.
    conf = configuration([16, 32, 32], [4.0, 2.4, 2.4], "ZScoreNormalization", True,
                         {"architecture": arch("ResidualEncoderUNet", [4, 8, 16, 32], k3,
                                               [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2]], [1, 2, 2, 2], [1, 1, 1])})
    p = plans("Dataset904_ResEncFixture", conf, transpose=(0, 2, 1))
    models["resenc"] = (make_model(out, "resenc", p, dataset_json(three), ["all"], 53), ["all"])

    inputs = {"low": (low, low_sp), "full": (full, full_sp), "framed": (framed, low_sp)}
    for key, (img, _) in inputs.items():
        write_gz(out / f"input_{key}.i16.gz", np.round(img).astype("<i2"))
    cases = [("plain3d", "low"), ("ensemble2", "low"), ("aniso", "full"), ("resenc", "framed")]
    manifest = []
    for model, inp in cases:
        img, sp = inputs[inp]
        folder, folds = models[model]
        for tta in (False, True):
            seg, probs = predict(folder, folds, np.round(img).astype(np.float32), sp, tta)
            tag = f"{model}_{'tta' if tta else 'notta'}"
            write_gz(out / f"{tag}.prob.f32.gz", probs.astype("<f4"))
            write_gz(out / f"{tag}.seg.u8.gz", seg)
            manifest.append({"name": tag, "model": model, "folds": [str(f) for f in folds], "tta": tta,
                             "input": f"input_{inp}.i16.gz", "shape": list(img.shape), "spacing": list(sp),
                             "classes": int(probs.shape[0]), "probabilities": f"{tag}.prob.f32.gz",
                             "segmentation": f"{tag}.seg.u8.gz",
                             "label_counts": [int((seg == c).sum()) for c in range(probs.shape[0])]})
            print(tag, probs.shape, "label counts", manifest[-1]["label_counts"])
    (out / "cases.json").write_text(json.dumps({"generator": "tests/oracle/make_nnunet_fixtures.py",
                                                "torch": torch.__version__, "cases": manifest}, indent=2))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
