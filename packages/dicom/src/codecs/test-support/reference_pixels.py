"""Independent reference for the codec tests (test-only; needs python3-pydicom, python3-numpy, python3-pil, dcmtk).

describe FILE         -> JSON: image attributes and where the Pixel Data value starts in FILE
native FILE OUT.raw   -> writes the native frames as pydicom reads them (1-bit pixels unpacked to a byte each)
decode FILE OUT.raw   -> writes every frame decoded by a reference decoder (native little endian, colour-by-pixel,
                         signed values sign-extended), prints JSON {photometricInterpretation, frames, decoder}

Reference decoders: DCMTK (dcmdjpeg: IJG libjpeg 6b 8/12/16-bit; dcmdjpls: DCMTK's CharLS; dcmdrle) and, for
JPEG 2000 and HTJ2K, which DCMTK lacks, Pillow over the system OpenJPEG.
"""
import io
import json
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from PIL import Image
from pydicom.encaps import encapsulate, generate_pixel_data_frame

JPEG = {'1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70'}
JPEG_LS = {'1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81'}
RLE = {'1.2.840.10008.1.2.5'}
J2K = {'1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202',
       '1.2.840.10008.1.2.4.203'}
DCMTK_TOOL = {**{uid: 'dcmdjpeg' for uid in JPEG}, **{uid: 'dcmdjpls' for uid in JPEG_LS}, **{uid: 'dcmdrle' for uid in RLE}}


def image_attributes(ds):
    return {
        'rows': int(ds.Rows),
        'columns': int(ds.Columns),
        'samplesPerPixel': int(ds.SamplesPerPixel),
        'bitsAllocated': int(ds.BitsAllocated),
        'bitsStored': int(ds.BitsStored),
        'pixelRepresentation': int(ds.PixelRepresentation),
        'planarConfiguration': int(getattr(ds, 'PlanarConfiguration', 0) or 0),
        'photometricInterpretation': str(ds.PhotometricInterpretation),
        'numberOfFrames': int(getattr(ds, 'NumberOfFrames', 1) or 1),
    }


def describe(path):
    ds = pydicom.dcmread(path, force=True)
    raw = ds.get_item(0x7FE00010)  # still a RawDataElement: it knows where its value starts in the file
    eot = ds.get_item(0x7FE00001)
    out = image_attributes(ds)
    out.update({
        'transferSyntaxUid': str(ds.file_meta.TransferSyntaxUID),
        'pixelDataOffset': raw.value_tell,
        'pixelDataLength': -1 if raw.length == 0xFFFFFFFF else raw.length,
        'extendedOffsetTable': eot.value.hex() if eot is not None else None,
    })
    print(json.dumps(out))


def sign_extend(arr, bits_stored, bits_allocated, signed):
    if not signed or bits_stored >= bits_allocated:
        return arr
    shift = 32 - bits_stored
    return (arr.astype(np.int32) << shift) >> shift


def to_native_bytes(arr, bits_allocated, signed):
    kind = 'i' if signed else 'u'
    return np.ascontiguousarray(arr).astype('<%s%d' % (kind, bits_allocated // 8)).tobytes()


def run_dcmtk(tool, path, out_path):
    """DCMTK refuses a few samples whose data set is malformed outside the image (e.g. an unterminated sequence);
    for those, the Image Pixel module alone is copied by pydicom into a clean file, and that file is decoded."""
    if subprocess.run([tool, '-q', path, out_path], stderr=subprocess.DEVNULL).returncode == 0:
        return
    with tempfile.NamedTemporaryFile(suffix='.dcm') as clean:
        pixel_module_only(pydicom.dcmread(path)).save_as(clean.name, write_like_original=False)
        subprocess.run([tool, '-q', clean.name, out_path], check=True)


IMAGE_PIXEL_KEYWORDS = ['SOPClassUID', 'SOPInstanceUID', 'SamplesPerPixel', 'PhotometricInterpretation', 'PlanarConfiguration',
                        'NumberOfFrames', 'Rows', 'Columns', 'BitsAllocated', 'BitsStored', 'HighBit',
                        'PixelRepresentation', 'PixelData']


def pixel_module_only(ds):
    clean = pydicom.Dataset()
    clean.file_meta = ds.file_meta
    for keyword in IMAGE_PIXEL_KEYWORDS:
        if keyword in ds:
            clean[keyword] = ds[keyword]
    # re-encapsulated frame by frame: this also pads fragments of odd length, which DCMTK cannot read
    frames = list(generate_pixel_data_frame(ds.PixelData, int(getattr(ds, 'NumberOfFrames', 1) or 1)))
    clean.PixelData = encapsulate(frames)
    clean['PixelData'].VR = 'OB'
    clean.is_little_endian = True
    clean.is_implicit_VR = False
    return clean


def decode_with_dcmtk(path, out, tool):
    with tempfile.NamedTemporaryFile(suffix='.dcm') as tmp:
        run_dcmtk(tool, path, tmp.name)
        ds = pydicom.dcmread(tmp.name)
        attrs = image_attributes(ds)
        arr = ds.pixel_array  # native now: pydicom's numpy handler, colour-by-pixel whatever the planar configuration
        signed = attrs['pixelRepresentation'] == 1
        arr = sign_extend(arr, attrs['bitsStored'], attrs['bitsAllocated'], signed)
        with open(out, 'wb') as f:
            f.write(to_native_bytes(arr, attrs['bitsAllocated'], signed))
        return {'photometricInterpretation': attrs['photometricInterpretation'], 'frames': attrs['numberOfFrames'],
                'decoder': tool}


def j2k_header(codestream):
    """Signedness and precision from SIZ, component transform from COD (ISO 15444-1 A.5.1, A.6.1)."""
    soc = codestream.find(b'\xff\x4f\xff\x51')
    ssiz = codestream[soc + 42]
    pos = soc + 2
    mct = False
    while pos + 4 <= len(codestream):
        marker = codestream[pos + 1]
        length = int.from_bytes(codestream[pos + 2:pos + 4], 'big')
        if marker == 0x52:
            mct = codestream[pos + 8] != 0
            break
        if marker in (0x90, 0x93):
            break
        pos += 2 + length
    return bool(ssiz & 0x80), (ssiz & 0x7F) + 1, mct


def decode_with_pillow(path, out):
    ds = pydicom.dcmread(path)
    attrs = image_attributes(ds)
    frames = attrs['numberOfFrames']
    signed_container = attrs['pixelRepresentation'] == 1
    photometric = attrs['photometricInterpretation']
    with open(out, 'wb') as f:
        for codestream in generate_pixel_data_frame(ds.PixelData, frames):
            signed, precision, mct = j2k_header(codestream)
            image = Image.open(io.BytesIO(codestream))
            image.load()
            arr = np.array(image).astype(np.int32)
            if image.mode.startswith('I'):
                # Pillow scales samples of fewer than 16 bits up to 16, and shifts signed ones into the unsigned range
                arr >>= 16 - precision
                if signed:
                    arr -= 1 << (precision - 1)
            arr = sign_extend(arr, attrs['bitsStored'], attrs['bitsAllocated'], signed_container)
            f.write(to_native_bytes(arr, attrs['bitsAllocated'], signed_container))
            if mct and attrs['samplesPerPixel'] == 3:
                photometric = 'RGB'
    return {'photometricInterpretation': photometric, 'frames': frames, 'decoder': 'Pillow/OpenJPEG'}


def unpacked_native(path, out):
    """Native pixels as pydicom reads them: for 1-bit data, one byte (0 or 1) per pixel, frame after frame."""
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    with open(out, 'wb') as f:
        f.write(np.ascontiguousarray(arr).astype(np.uint8 if ds.BitsAllocated == 1 else arr.dtype.newbyteorder('<')).tobytes())
    print(json.dumps({'photometricInterpretation': str(ds.PhotometricInterpretation), 'frames': int(getattr(ds, 'NumberOfFrames', 1) or 1),
                      'decoder': 'pydicom'}))


def decode(path, out):
    ts = str(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)
    if ts in DCMTK_TOOL:
        result = decode_with_dcmtk(path, out, DCMTK_TOOL[ts])
    elif ts in J2K:
        result = decode_with_pillow(path, out)
    else:
        raise SystemExit('no reference decoder for ' + ts)
    print(json.dumps(result))


if __name__ == '__main__':
    if sys.argv[1] == 'describe':
        describe(sys.argv[2])
    elif sys.argv[1] == 'native':
        unpacked_native(sys.argv[2], sys.argv[3])
    else:
        decode(sys.argv[2], sys.argv[3])
