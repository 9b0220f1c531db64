"""Independent reference for the rendered-image tests (test-only; needs python3-pydicom and numpy).

modality FILE OUT.raw [FRAME] -> writes frame FRAME's (0-based, default 0) Modality LUT output (pydicom's apply_modality_lut) as float64,
                         prints JSON {rows, columns, windowCenter, windowWidth, photometricInterpretation}
rgb FILE OUT.raw [FRAME]      -> writes the frame as 8-bit RGB: pydicom's pixels, YBR converted with
                         pydicom's convert_color_space, palettes applied with apply_color_lut; prints JSON {rows, columns}
"""
import json
import sys

import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import apply_color_lut, apply_modality_lut, convert_color_space


def frame(ds, index):
    pixels = ds.pixel_array
    frames = int(getattr(ds, 'NumberOfFrames', 1) or 1)
    return pixels[index] if frames > 1 else pixels


def number(value):
    if value is None:
        return None
    return float(value[0]) if isinstance(value, pydicom.multival.MultiValue) else float(value)


def main():
    mode, path, out = sys.argv[1:4]
    index = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    ds = pydicom.dcmread(path, force=True)
    if 'TransferSyntaxUID' not in ds.file_meta:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    pixels = frame(ds, index)
    if mode == 'modality':
        values = apply_modality_lut(pixels, ds).astype(np.float64)
        values.tofile(out)
        center, width = ds.get('WindowCenter'), ds.get('WindowWidth')
        if center is None and 'PerFrameFunctionalGroupsSequence' in ds:
            # Enhanced objects: the frame's Frame VOI LUT functional group (PS3.3 C.7.6.16.2.10).
            group = ds.PerFrameFunctionalGroupsSequence[index]
            if 'FrameVOILUTSequence' in group:
                center, width = group.FrameVOILUTSequence[0].WindowCenter, group.FrameVOILUTSequence[0].WindowWidth
        print(json.dumps({
            'rows': int(ds.Rows), 'columns': int(ds.Columns),
            'windowCenter': number(center), 'windowWidth': number(width),
            'photometricInterpretation': ds.PhotometricInterpretation,
        }))
        return
    photometric = ds.PhotometricInterpretation
    if photometric == 'PALETTE COLOR':
        rgb = apply_color_lut(pixels, ds)
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
        rgb = (rgb >> 8) if bits == 16 and rgb.max() > 255 else rgb
    elif photometric.startswith('YBR') and ds.file_meta.TransferSyntaxUID in ('1.2.840.10008.1.2.5', '1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2'):
        # pydicom leaves RLE and native YBR as stored; its JPEG handlers convert already.
        rgb = convert_color_space(pixels, photometric, 'RGB')
    else:
        rgb = pixels
    np.clip(rgb, 0, 255).astype(np.uint8).tofile(out)
    print(json.dumps({'rows': int(ds.Rows), 'columns': int(ds.Columns)}))


main()
