#!/usr/bin/env python3
"""Voxel agreement of two masks on the same grid: python3 compare_masks.py A.nii.gz B.nii.gz"""
import sys

import numpy as np
import SimpleITK as sitk

a = sitk.GetArrayFromImage(sitk.ReadImage(sys.argv[1])) > 0
b = sitk.GetArrayFromImage(sitk.ReadImage(sys.argv[2])) > 0
if a.shape != b.shape:
    sys.exit(f"shapes differ: {a.shape} vs {b.shape}")
agree = float((a == b).mean())
inter = float((a & b).sum())
dice = 2 * inter / max(1.0, float(a.sum() + b.sum()))
print(f"voxel agreement {agree:.6f}, dice {dice:.4f}, face voxels {int(a.sum())} vs {int(b.sum())}")
