#!/usr/bin/env python3
"""Voxel agreement of face masks on the same grid, overall and inside a box (the --roi face region).

    python3 compare_masks.py REFERENCE.nii.gz OTHER.nii.gz [--box z0,y0,x0,z1,y1,x1] [--label NAME]
"""
import argparse
import sys

import numpy as np
import SimpleITK as sitk

ap = argparse.ArgumentParser()
ap.add_argument("reference")
ap.add_argument("other")
ap.add_argument("--box", help="half-open region z0,y0,x0,z1,y1,x1 in array order")
ap.add_argument("--label", default="")
a = ap.parse_args()
ref = sitk.GetArrayFromImage(sitk.ReadImage(a.reference)) > 0
oth = sitk.GetArrayFromImage(sitk.ReadImage(a.other)) > 0
if ref.shape != oth.shape:
    sys.exit(f"shapes differ: {ref.shape} vs {oth.shape}")


def dice(x, y):
    return 2 * float((x & y).sum()) / max(1.0, float(x.sum() + y.sum()))


line = (f"{a.label}agreement {float((ref == oth).mean()):.6f}, dice {dice(ref, oth):.4f}, "
        f"face voxels {int(oth.sum())} vs {int(ref.sum())}")
if a.box:
    z0, y0, x0, z1, y1, x1 = (int(v) for v in a.box.split(","))
    inside = np.zeros(ref.shape, bool)
    inside[z0:z1, y0:y1, x0:x1] = True
    line += (f"; inside the face region ({100 * inside.mean():.1f}% of voxels): agreement "
             f"{float((ref[inside] == oth[inside]).mean()):.6f}; reference face voxels outside it "
             f"{int(ref[~inside].sum())}, this run's {int(oth[~inside].sum())}")
print(line)
