#!/usr/bin/env python3
"""Independent oracle for ctdeface's DICOM rewrite (pydicom + pylibjpeg).

Usage: check_rewrite.py EXPECTATION.json

The JSON (written by tests/write/PythonOracleTest.cpp) lists, for every
rewritten file, its source, its output and the boxes (frame, row range, column
range; half-open) that were masked, plus the fill value in HU. For every frame
of every file this script decodes source and output with pydicom and checks:
  - inside a box: stored == clamp(round((fill - b) / m)) and, unless clamped,
    |HU - fill| <= |m| / 2;
  - outside: stored value and HU identical to the source's.
Per-frame rescale comes from the Enhanced CT functional groups when present.

Exit codes: 0 all checks passed, 1 a check failed, 77 pydicom (or a codec
plugin it needs) is not installed.
"""
import json
import sys

try:
    import numpy as np
    import pydicom
except ImportError as exc:  # the C++ test turns this into a skip, or a failure under CI
    print(f"pydicom/numpy missing: {exc}", file=sys.stderr)
    sys.exit(77)


def rescale(ds, frame):
    """(slope, intercept) of one frame, Enhanced CT functional groups first."""
    for seq_name, index in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        groups = ds.get(seq_name)
        if groups and len(groups) > index:
            pvt = groups[index].get("PixelValueTransformationSequence")
            if pvt:
                return float(pvt[0].RescaleSlope), float(pvt[0].RescaleIntercept)
    return float(ds.get("RescaleSlope", 1.0)), float(ds.get("RescaleIntercept", 0.0))


def stored_frames(ds):
    """Stored values as int64, shape (frames, rows, cols), sign-extended from BitsStored."""
    arr = ds.pixel_array.astype(np.int64)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    bits = int(ds.BitsStored)
    arr &= (1 << bits) - 1
    if int(ds.PixelRepresentation) == 1:
        arr = np.where(arr >= (1 << (bits - 1)), arr - (1 << bits), arr)
    return arr


def stored_range(ds):
    bits = int(ds.BitsStored)
    if int(ds.PixelRepresentation) == 1:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def check_file(entry, fill_hu):
    src = pydicom.dcmread(entry["source"])
    out = pydicom.dcmread(entry["output"])
    a, b = stored_frames(src), stored_frames(out)
    errors = []
    if a.shape != b.shape:
        return [f"{entry['output']}: shape {b.shape} != source {a.shape}"], 0, 0
    lo, hi = stored_range(src)
    masked_checked = unmasked_checked = 0
    boxes = {}
    for box in entry["boxes"]:
        boxes.setdefault(box["frame"], []).append(box)
    for f in range(a.shape[0]):
        slope, intercept = rescale(src, f)
        inside = np.zeros(a.shape[1:], dtype=bool)
        for box in boxes.get(f, []):
            inside[box["rows"][0]:box["rows"][1], box["cols"][0]:box["cols"][1]] = True
        x = (fill_hu - intercept) / slope
        want_fill = int(min(max(np.sign(x) * np.floor(abs(x) + 0.5), lo), hi))  # half away from zero
        got_in = b[f][inside]
        if np.any(got_in != want_fill):
            errors.append(f"{entry['output']} frame {f}: {int(np.sum(got_in != want_fill))} masked voxels "
                          f"are not the fill value (stored {want_fill})")
        out_slope, out_intercept = rescale(out, f)
        hu_in = got_in * out_slope + out_intercept
        if lo < want_fill < hi and np.any(np.abs(hu_in - fill_hu) > abs(slope) / 2 + 1e-6):
            errors.append(f"{entry['output']} frame {f}: masked HU differs from {fill_hu}")
        outside = ~inside
        if np.any(b[f][outside] != a[f][outside]):
            errors.append(f"{entry['output']} frame {f}: {int(np.sum(b[f][outside] != a[f][outside]))} "
                          "unmasked voxels changed")
        if (out_slope, out_intercept) != (slope, intercept):
            errors.append(f"{entry['output']} frame {f}: rescale changed")
        masked_checked += int(inside.sum())
        unmasked_checked += int(outside.sum())
    return errors, masked_checked, unmasked_checked


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as fh:
        spec = json.load(fh)
    errors, masked, unmasked = [], 0, 0
    for entry in spec["files"]:
        try:
            e, m, u = check_file(entry, float(spec["fill_hu"]))
        except (RuntimeError, NotImplementedError) as exc:  # no decoder plugin for this syntax
            print(f"{entry['output']}: cannot decode: {exc}", file=sys.stderr)
            return 77
        errors += e
        masked += m
        unmasked += u
    for e in errors:
        print(e)
    print(f"{len(spec['files'])} files, {masked} masked and {unmasked} unmasked voxels checked, {len(errors)} errors")
    if masked == 0 or unmasked == 0:
        print("nothing to check on one side of the mask")
        return 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
