#!/usr/bin/env python3
"""Regenerates tests/fixtures/nn: tiny nnU-Net v2 networks saved exactly as nnU-Net's trainer saves them,
an input patch and torch's logits for each, plus corner-case checkpoint files for the reader's tests.

Needs torch 2.13 (CPU), nnunetv2 and dynamic_network_architectures. CI never runs this; it reads the
committed output. Usage: python3 tests/oracle/make_network_fixtures.py [OUT_DIR]
"""
import copy
import io
import json
import os
import sys
import zipfile

import numpy as np
import torch
from nnunetv2.utilities.get_network_from_plans import get_network_from_plans

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', 'fixtures', 'nn'))

RESAMPLING = {
    'resampling_fn_data': 'resample_data_or_seg_to_shape',
    'resampling_fn_seg': 'resample_data_or_seg_to_shape',
    'resampling_fn_data_kwargs': {'is_seg': False, 'order': 3, 'order_z': 0, 'force_separate_z': None},
    'resampling_fn_seg_kwargs': {'is_seg': True, 'order': 1, 'order_z': 0, 'force_separate_z': None},
    'resampling_fn_probabilities': 'resample_data_or_seg_to_shape',
    'resampling_fn_probabilities_kwargs': {'is_seg': False, 'order': 1, 'order_z': 0, 'force_separate_z': None},
}
CT_PROPS = {'max': 3071.0, 'mean': 312.5, 'median': 120.0, 'min': -1024.0,
            'percentile_00_5': -998.0, 'percentile_99_5': 1890.0, 'std': 455.25}


def arch_dict(cls, dims, n_stages, features, kernels, strides, n_enc, n_dec, slope):
    conv = 'torch.nn.modules.conv.Conv%dd' % dims
    norm = 'torch.nn.modules.instancenorm.InstanceNorm%dd' % dims
    kw = {'n_stages': n_stages, 'features_per_stage': features, 'conv_op': conv, 'kernel_sizes': kernels,
          'strides': strides}
    kw['n_conv_per_stage' if cls == 'PlainConvUNet' else 'n_blocks_per_stage'] = n_enc
    kw.update({'n_conv_per_stage_decoder': n_dec, 'conv_bias': True, 'norm_op': norm,
               'norm_op_kwargs': {'eps': 1e-05, 'affine': True}, 'dropout_op': None, 'dropout_op_kwargs': None,
               'nonlin': 'torch.nn.LeakyReLU', 'nonlin_kwargs': {'inplace': True, 'negative_slope': slope}})
    # nnU-Net's planners name both classes in architectures.unet (residual_unet only appears in its
    # conversion of old plans, a module that no longer exists).
    return {'network_class_name': 'dynamic_network_architectures.architectures.unet.' + cls,
            'arch_kwargs': kw, '_kw_requires_import': ['conv_op', 'norm_op', 'dropout_op', 'nonlin']}


def plans_for(name, config, patch, spacing, arch, channels, legacy):
    cfg = {'data_identifier': 'nnUNetPlans_' + config, 'preprocessor_name': 'DefaultPreprocessor',
           'batch_size': 2, 'patch_size': patch, 'median_image_size_in_voxels': [p * 4 for p in patch],
           'spacing': spacing, 'normalization_schemes': ['CTNormalization'] + ['ZScoreNormalization'] * (channels - 1),
           'use_mask_for_norm': [False] * channels, **RESAMPLING, 'batch_dice': True}
    if legacy:
        # nnU-Net < 2.4 layout: what ConfigurationManager converts back into `architecture`.
        kw = arch['arch_kwargs']
        cfg.update({'UNet_class_name': arch['network_class_name'].split('.')[-1],
                    'UNet_base_num_features': kw['features_per_stage'][0],
                    'n_conv_per_stage_encoder': kw['n_conv_per_stage'],
                    'n_conv_per_stage_decoder': kw['n_conv_per_stage_decoder'],
                    'num_pool_per_axis': [sum(1 for s in kw['strides'] if s[a] > 1) for a in range(len(patch))],
                    'pool_op_kernel_sizes': kw['strides'], 'conv_kernel_sizes': kw['kernel_sizes'],
                    'unet_max_num_features': kw['features_per_stage'][-1]})
    else:
        cfg['architecture'] = arch
    return {'dataset_name': 'Dataset999_' + name, 'plans_name': 'nnUNetPlans',
            'original_median_spacing_after_transp': spacing if len(spacing) == 3 else [1.0] + spacing,
            'original_median_shape_after_transp': [p * 4 for p in patch] if len(patch) == 3 else [64] + [p * 4 for p in patch],
            'image_reader_writer': 'SimpleITKIO', 'transpose_forward': [0, 1, 2], 'transpose_backward': [0, 1, 2],
            'configurations': {config: cfg}, 'experiment_planner_used': 'ExperimentPlanner',
            'label_manager': 'LabelManager',
            'foreground_intensity_properties_per_channel': {str(c): CT_PROPS for c in range(channels)}}


def dataset_for(channels, labels):
    return {'channel_names': {str(c): 'CT' if c == 0 else 'extra%d' % c for c in range(channels)},
            'labels': labels, 'numTraining': 10, 'file_ending': '.nii.gz'}


def randomise_norms(net, gen):
    # Fresh InstanceNorm affine params are 1 and 0; non-trivial ones make the parity test see them.
    for m in net.modules():
        if isinstance(m, (torch.nn.InstanceNorm2d, torch.nn.InstanceNorm3d)):
            m.weight.data = torch.rand(m.weight.shape, generator=gen) + 0.5
            m.bias.data = torch.rand(m.bias.shape, generator=gen) * 0.4 - 0.2


def save_like_trainer(net, plans, dataset, config, path, mirror_axes):
    # One SGD step on a copy gives the optimizer momentum buffers (tensors the reader must not materialise)
    # without changing the saved weights.
    trained = copy.deepcopy(net).train()
    opt = torch.optim.SGD(trained.parameters(), lr=1e-2, momentum=0.99, nesterov=True)
    dims = len(plans['configurations'][config]['patch_size'])
    channels = len(dataset['channel_names'])
    trained(torch.ones((1, channels) + (16,) * dims)).sum().backward()
    opt.step()
    checkpoint = {
        'network_weights': net.state_dict(),
        'optimizer_state': opt.state_dict(),
        'grad_scaler_state': None,
        'logging': {'mean_fg_dice': [np.float64(0.25), np.float64(0.5)], 'ema_fg_dice': [np.float64(0.25)],
                    'dice_per_class_or_region': [[np.float64(0.25)]], 'train_losses': [np.float32(0.75)],
                    'val_losses': [np.float32(0.5)], 'lrs': [0.01], 'epoch_start_timestamps': [1.0],
                    'epoch_end_timestamps': [2.0]},
        '_best_ema': np.float64(0.25),
        'current_epoch': 2,
        'init_args': {'plans': plans, 'configuration': config, 'fold': 0, 'dataset_json': dataset,
                      'device': torch.device('cpu')},
        'trainer_name': 'nnUNetTrainer',
        'inference_allowed_mirroring_axes': mirror_axes,
    }
    torch.save(checkpoint, path)


def make_model(name, config, cls, dims, features, kernels, strides, n_enc, n_dec, channels, labels, patch,
               spacing, slope, legacy, seed):
    folder = os.path.join(OUT, name, 'nnUNetTrainer__nnUNetPlans__' + config)
    os.makedirs(os.path.join(folder, 'fold_0'), exist_ok=True)
    arch = arch_dict(cls, dims, len(features), features, kernels, strides, n_enc, n_dec, slope)
    plans = plans_for(name, config, patch, spacing, arch, channels, legacy)
    dataset = dataset_for(channels, labels)
    with open(os.path.join(folder, 'plans.json'), 'w') as f:
        json.dump(plans, f, indent=4, sort_keys=False)
    with open(os.path.join(folder, 'dataset.json'), 'w') as f:
        json.dump(dataset, f, indent=4, sort_keys=False)

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    num_classes = len(labels)
    net = get_network_from_plans(arch['network_class_name'], copy.deepcopy(arch['arch_kwargs']),
                                 arch['_kw_requires_import'], channels, num_classes, allow_init=True,
                                 deep_supervision=False)
    randomise_norms(net, gen)
    net.eval()
    save_like_trainer(net, plans, dataset, config, os.path.join(folder, 'fold_0', 'checkpoint_final.pth'),
                      tuple(range(dims)))

    x = torch.randn((1, channels, *patch), generator=gen) * 1.5 + 0.25
    with torch.no_grad():
        y = net(x)
    np.save(os.path.join(OUT, name, 'input.npy'), x.numpy().astype('<f4'))
    np.save(os.path.join(OUT, name, 'logits.npy'), y.numpy().astype('<f4'))
    print('%s: %d tensors, logits %s, |logit| max %.3f' % (name, len(net.state_dict()), tuple(y.shape),
                                                            float(y.abs().max())))


def rewrite_zip(src, dst, edit):
    # Rewrites every record through `edit(name, bytes) -> bytes or None (drop)`, keeping the zip valid.
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)


def make_checkpoint_cases():
    d = os.path.join(OUT, 'checkpoints')
    os.makedirs(d, exist_ok=True)
    base = torch.arange(24, dtype=torch.float32)
    weights = {
        'contiguous': base[:6].reshape(2, 3).clone(),
        'transposed': base[:12].reshape(3, 4).t(),            # strides (1, 4)
        'offset_view': base[5:9],                             # storage offset 5 into a 24-element storage
        'half': torch.tensor([1.5, -2.25, 65504.0, 2.0 ** -24, 0.0], dtype=torch.float16),
        'bfloat16': torch.tensor([1.0, -3.5, 2.0 ** 100, 0.15625], dtype=torch.bfloat16),
        'double': torch.tensor([0.1, -7.0], dtype=torch.float64),
    }
    ckpt = {'network_weights': weights, 'optimizer_state': {'state': {0: {'momentum_buffer': torch.ones(3)}}},
            'trainer_name': 'nnUNetTrainerNoMirroring', 'inference_allowed_mirroring_axes': None,
            '_best_ema': np.float64(0.5)}
    good = os.path.join(d, 'dtypes.pth')
    torch.save(ckpt, good)
    torch.save(ckpt, os.path.join(d, 'legacy.pth'), _use_new_zipfile_serialization=False)
    raw = open(good, 'rb').read()
    open(os.path.join(d, 'truncated.pth'), 'wb').write(raw[: len(raw) // 2])
    rewrite_zip(good, os.path.join(d, 'pickle_ends_early.pth'),
                lambda n, b: b[: len(b) // 2] if n.endswith('/data.pkl') else b)
    # Byte 2 is the first opcode after PROTO 2; 0xff is no pickle opcode.
    rewrite_zip(good, os.path.join(d, 'pickle_bad_opcode.pth'),
                lambda n, b: b[:2] + b'\xff' + b[3:] if n.endswith('/data.pkl') else b)
    key = None
    with zipfile.ZipFile(good) as z:
        key = sorted(n for n in z.namelist() if '/data/' in n)[0]
    rewrite_zip(good, os.path.join(d, 'missing_storage.pth'), lambda n, b: None if n == key else b)
    # A flipped bit inside a stored tensor: the zip's CRC must catch it.
    with zipfile.ZipFile(good) as z:
        info = z.getinfo(key)
    raw_crc = bytearray(raw)
    name_len, extra_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], 'little'), \
        int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], 'little')
    raw_crc[info.header_offset + 30 + name_len + extra_len + 1] ^= 0x10
    open(os.path.join(d, 'storage_crc.pth'), 'wb').write(bytes(raw_crc))
    torch.save({'state_dict': weights}, os.path.join(d, 'not_nnunet.pth'))
    print('checkpoint cases in', d, '(dropped storage %s)' % key)


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    # Anisotropic 3D PlainConvUNet: an in-plane-only first pooling and 1x3x3 kernels, as for thick slices.
    # Widths are whole 16-channel blocks, so the engine runs it in oneDNN's blocked layout (the others,
    # narrower, run in the plain layout).
    make_model('plain3d', '3d_fullres', 'PlainConvUNet', 3, [16, 16, 32], [[1, 3, 3], [3, 3, 3], [3, 3, 3]],
               [[1, 1, 1], [1, 2, 2], [2, 2, 2]], [2, 2, 2], [2, 2], 1, {'background': 0, 'face': 1},
               [8, 24, 24], [3.0, 0.8, 0.8], 0.01, False, 1234)
    # 3D ResidualEncoderUNet, two input channels, three labels, a 2-block stage (skip projections).
    make_model('resenc3d', '3d_fullres', 'ResidualEncoderUNet', 3, [4, 8, 16], [[3, 3, 3]] * 3,
               [[1, 1, 1], [2, 2, 2], [2, 2, 2]], [1, 2, 2], [1, 1], 2,
               {'background': 0, 'face': 1, 'ears': 2}, [16, 16, 16], [1.0, 1.0, 1.0], 0.01, False, 4321)
    # 2D PlainConvUNet with old-layout plans (UNet_class_name) and default LeakyReLU slope.
    make_model('plain2d', '2d', 'PlainConvUNet', 2, [4, 8, 16, 16], [[3, 3]] * 4,
               [[1, 1], [2, 2], [2, 2], [2, 2]], [2, 2, 2, 2], [2, 2, 2], 1, {'background': 0, 'face': 1},
               [32, 40], [0.8, 0.8], 0.01, True, 99)
    make_checkpoint_cases()


if __name__ == '__main__':
    main()
