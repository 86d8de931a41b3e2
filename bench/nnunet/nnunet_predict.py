#!/usr/bin/env python3
"""nnU-Net's own predictor on one NIfTI, CPU, no TTA: writes the face mask (label 1) as NIfTI.

    python3 bench/nnunet/nnunet_predict.py MODEL_FOLDER IMAGE.nii.gz OUT_MASK.nii.gz THREADS
"""
import sys
import time

import numpy as np
import SimpleITK as sitk
import torch
from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO
from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor


def main():
    model, image, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    torch.set_num_threads(threads)
    t0 = time.time()
    pred = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=False,
                           perform_everything_on_device=False, device=torch.device("cpu"), verbose=False,
                           allow_tqdm=False)
    pred.initialize_from_trained_model_folder(model, use_folds=("all",), checkpoint_name="checkpoint_final.pth")
    data, props = SimpleITKIO().read_images([image])
    seg = pred.predict_single_npy_array(data, props, None, None, False)
    ref = sitk.ReadImage(image)
    m = sitk.GetImageFromArray((seg == 1).astype(np.uint8))
    m.CopyInformation(ref)
    sitk.WriteImage(m, out)
    print(f"nnunetv2: {time.time() - t0:.2f} s")


if __name__ == "__main__":
    main()
