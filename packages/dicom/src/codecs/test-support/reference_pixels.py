"""Independent reference for the codec tests (test-only; needs python3-pydicom, python3-numpy, libopenjp2-7, dcmtk).

describe FILE         -> JSON: image attributes and where the Pixel Data value starts in FILE
native FILE OUT.raw   -> writes the native frames as pydicom reads them (1-bit pixels unpacked to a byte each)
decode FILE OUT.raw   -> writes every frame decoded by a reference decoder (native little endian, colour-by-pixel,
                         signed values sign-extended), prints JSON {photometricInterpretation, frames, decoder}

Reference decoders: DCMTK (dcmdjpeg: IJG libjpeg 6b 8/12/16-bit; dcmdjpls: DCMTK's CharLS; dcmdrle) and, for
JPEG 2000 and HTJ2K, which DCMTK lacks, the system OpenJPEG called directly (opj_decode on the whole image; Pillow's
tile-by-tile reading of OpenJPEG fails on valid codestreams such as GDCMJ2K_TextGBR's).

Colour JPEG: whether YCbCr is converted to RGB follows the stream's own signalling first, as libjpeg reads it (JFIF
APP0, Adobe APP14 transform flag, component ids 1-2-3 or 'R'-'G'-'B'), and the Photometric Interpretation only when
the stream says nothing (PS3.5 8.2.1). dcmdjpeg's default (+cp) trusts the Photometric Interpretation alone, which is
wrong for YCbCr data labelled RGB (GDCM's lossy encoder writes such files, e.g. SC_rgb_jpeg_lossy_gdcm.dcm), so
signalled streams are decoded with +cgl (IJG decides, lossy only).
"""
import ctypes
import json
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
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


def run_dcmtk(tool, path, out_path, options=()):
    """DCMTK refuses a few samples whose data set is malformed outside the image (e.g. an unterminated sequence);
    for those, the Image Pixel module alone is copied by pydicom into a clean file, and that file is decoded."""
    if subprocess.run([tool, '-q', *options, path, out_path], stderr=subprocess.DEVNULL).returncode == 0:
        return
    with tempfile.NamedTemporaryFile(suffix='.dcm') as clean:
        pixel_module_only(pydicom.dcmread(path)).save_as(clean.name, write_like_original=False)
        subprocess.run([tool, '-q', *options, clean.name, out_path], check=True)


def jpeg_signals_color_space(stream):
    """Whether a JPEG stream says itself whether its components are YCbCr or RGB, as libjpeg 6b / libjpeg-turbo read
    it (jdapimin.c default_decompress_parms): a JFIF APP0 or Adobe APP14 segment long enough to be recognised, or
    component ids 1, 2, 3 or 'R', 'G', 'B'. Without any of these libjpeg merely guesses YCbCr."""
    pos = 2
    while pos + 4 <= len(stream) and stream[pos] == 0xFF:
        marker = stream[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = int.from_bytes(stream[pos + 2:pos + 4], 'big')
        data = stream[pos + 4:pos + 2 + length]
        if marker == 0xE0 and len(data) >= 14 and data.startswith(b'JFIF\0'):
            return True
        if marker == 0xEE and len(data) >= 12 and data.startswith(b'Adobe'):
            return True
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            ids = bytes(data[6:6 + 3 * data[5]:3])
            return ids in (b'\x01\x02\x03', b'RGB')
        if marker in (0xDA, 0xD9):
            break
        pos += 2 + length
    return False


def dcmdjpeg_color_options(path):
    ds = pydicom.dcmread(path)
    if int(ds.SamplesPerPixel) != 3:
        return ()
    first = next(generate_pixel_data_frame(ds.PixelData, int(getattr(ds, 'NumberOfFrames', 1) or 1)))
    return ('+cgl',) if jpeg_signals_color_space(first) else ()


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
    options = dcmdjpeg_color_options(path) if tool == 'dcmdjpeg' else ()
    with tempfile.NamedTemporaryFile(suffix='.dcm') as tmp:
        run_dcmtk(tool, path, tmp.name, options)
        ds = pydicom.dcmread(tmp.name)
        attrs = image_attributes(ds)
        arr = ds.pixel_array  # native now: pydicom's numpy handler, colour-by-pixel whatever the planar configuration
        signed = attrs['pixelRepresentation'] == 1
        arr = sign_extend(arr, attrs['bitsStored'], attrs['bitsAllocated'], signed)
        with open(out, 'wb') as f:
            f.write(to_native_bytes(arr, attrs['bitsAllocated'], signed))
        return {'photometricInterpretation': attrs['photometricInterpretation'], 'frames': attrs['numberOfFrames'],
                'decoder': tool}


def j2k_uses_mct(codestream):
    """Whether COD asks for the component transform (ISO 15444-1 A.6.1): the decoder then gives RGB."""
    pos = codestream.find(b'\xff\x4f\xff\x51') + 2
    while pos + 4 <= len(codestream):
        marker = codestream[pos + 1]
        if marker == 0x52:
            return codestream[pos + 8] != 0
        if marker in (0x90, 0x93):
            break
        pos += 2 + int.from_bytes(codestream[pos + 2:pos + 4], 'big')
    return False


class OpjImageComp(ctypes.Structure):  # opj_image_comp_t (openjpeg.h, 2.1 and later)
    _fields_ = [(name, ctypes.c_uint32) for name in ('dx', 'dy', 'w', 'h', 'x0', 'y0', 'prec', 'bpp', 'sgnd',
                                                     'resno_decoded', 'factor')] + \
               [('data', ctypes.POINTER(ctypes.c_int32)), ('alpha', ctypes.c_uint16)]


class OpjImage(ctypes.Structure):  # opj_image_t
    _fields_ = [(name, ctypes.c_uint32) for name in ('x0', 'y0', 'x1', 'y1', 'numcomps')] + \
               [('color_space', ctypes.c_int), ('comps', ctypes.POINTER(OpjImageComp)),
                ('icc_profile_buf', ctypes.c_void_p), ('icc_profile_len', ctypes.c_uint32)]


def load_openjpeg():
    lib = ctypes.CDLL('libopenjp2.so.7')
    lib.opj_create_decompress.restype = ctypes.c_void_p
    lib.opj_create_decompress.argtypes = [ctypes.c_int]
    lib.opj_set_default_decoder_parameters.argtypes = [ctypes.c_void_p]
    lib.opj_setup_decoder.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.opj_stream_create_default_file_stream.restype = ctypes.c_void_p
    lib.opj_stream_create_default_file_stream.argtypes = [ctypes.c_char_p, ctypes.c_int]
    lib.opj_read_header.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(OpjImage))]
    lib.opj_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(OpjImage)]
    lib.opj_end_decompress.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    for name in ('opj_destroy_codec', 'opj_stream_destroy'):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.opj_image_destroy.argtypes = [ctypes.POINTER(OpjImage)]
    return lib


OPJ_CODEC_J2K = 0
OPJ_CODEC_JP2 = 2


def openjpeg_decode(lib, frame):
    """Every component of a JPEG 2000 codestream (or JP2 file, which some writers put in Pixel Data), stacked
    colour-by-pixel as int32: OpenJPEG undoes the component transform itself."""
    codec_format = OPJ_CODEC_J2K if frame.startswith(b'\xff\x4f\xff\x51') else OPJ_CODEC_JP2
    with tempfile.NamedTemporaryFile(suffix='.j2k') as tmp:
        tmp.write(frame)
        tmp.flush()
        codec = lib.opj_create_decompress(codec_format)
        parameters = ctypes.create_string_buffer(1 << 16)  # opj_dparameters_t is ~20 kB; filled by OpenJPEG
        lib.opj_set_default_decoder_parameters(parameters)
        stream = lib.opj_stream_create_default_file_stream(tmp.name.encode(), 1)
        image = ctypes.POINTER(OpjImage)()
        try:
            if not (lib.opj_setup_decoder(codec, parameters) and lib.opj_read_header(stream, codec, ctypes.byref(image))
                    and lib.opj_decode(codec, stream, image) and lib.opj_end_decompress(codec, stream)):
                raise SystemExit('OpenJPEG cannot decode the frame')
            comps = [image.contents.comps[k] for k in range(image.contents.numcomps)]
            planes = [np.ctypeslib.as_array(c.data, shape=(c.h, c.w)).copy() for c in comps]
            return np.stack(planes, axis=-1) if len(planes) > 1 else planes[0]
        finally:
            if image:
                lib.opj_image_destroy(image)
            lib.opj_stream_destroy(stream)
            lib.opj_destroy_codec(codec)


def decode_with_openjpeg(path, out):
    ds = pydicom.dcmread(path)
    attrs = image_attributes(ds)
    frames = attrs['numberOfFrames']
    signed = attrs['pixelRepresentation'] == 1
    photometric = attrs['photometricInterpretation']
    lib = load_openjpeg()
    with open(out, 'wb') as f:
        for frame in generate_pixel_data_frame(ds.PixelData, frames):
            arr = sign_extend(openjpeg_decode(lib, frame), attrs['bitsStored'], attrs['bitsAllocated'], signed)
            f.write(to_native_bytes(arr, attrs['bitsAllocated'], signed))
            if attrs['samplesPerPixel'] == 3 and j2k_uses_mct(frame):
                photometric = 'RGB'
    return {'photometricInterpretation': photometric, 'frames': frames, 'decoder': 'OpenJPEG'}


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
        result = decode_with_openjpeg(path, out)
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
