"""Test helper (Debian python3-pydicom): do two DICOM files hold the same attributes and pixel data?

Reads JSON lines {"received": PATH, "candidates": [PATH...]} on stdin and prints one JSON line per input:
{"received": PATH, "match": CANDIDATE or null, "differences": [...]} — the first candidate whose every
attribute outside the file meta group equals the received file's (sequences compared item by item,
whatever their length encoding). Pixel Data is compared as bytes when both files use the same transfer
syntax. When Loire converted a compressed original to a native syntax, the received pixels are compared
with the original decoded by an independent reference decoder (the codec tests' reference_pixels.py:
dcmtk or Pillow/OpenJPEG): exactly for lossless syntaxes, within one grey level for lossy ones; and the
Photometric Interpretation / Planar Configuration may change with decoding (e.g. YBR_FULL_422 to RGB).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, '..', '..', '..', 'dicom', 'src', 'codecs', 'test-support', 'reference_pixels.py')
LOSSY = {'1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.91',
         '1.2.840.10008.1.2.4.203'}
NATIVE = {'1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99'}
CHANGED_BY_DECODING = {0x00280004, 0x00280006, 0x7FE00001, 0x7FE00002}

PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}


def differences(a, b, path='', compare_pixels=True, decoded=False):
    out = []
    tags = sorted(set(a.keys()) | set(b.keys()))
    for tag in tags:
        if tag.group in (0x0002, 0xFFFE) or (tag.element == 0 and tag.group != 0) or int(tag) == 0xFFFCFFFC:
            continue  # file meta is the sender's; group lengths, stray delimiters and trailing padding are encoding details
        if decoded and not path and int(tag) in CHANGED_BY_DECODING:
            continue
        name = f'{path}{tag}'
        if tag not in a or tag not in b:
            out.append(f'{name} only in {"candidate" if tag not in a else "received"}')
            continue
        ea, eb = a[tag], b[tag]
        if int(tag) in PIXEL_TAGS and not compare_pixels:
            continue
        if ea.VR == 'SQ' or eb.VR == 'SQ':
            va, vb = list(ea.value or []), list(eb.value or [])
            if len(va) != len(vb):
                out.append(f'{name} has {len(va)} items, expected {len(vb)}')
            for i, (ia, ib) in enumerate(zip(va, vb)):
                out.extend(differences(ia, ib, f'{name}[{i}].'))
            continue
        if ea.value != eb.value:
            out.append(f'{name} differs')
    return out


def syntax(ds):
    return str(ds.file_meta.get('TransferSyntaxUID', '1.2.840.10008.1.2'))


def reference_pixels_differ(received, candidate_path, candidate_syntax):
    """Compares decoded pixels; returns a difference message or None."""
    with tempfile.NamedTemporaryFile(suffix='.raw') as out:
        run = subprocess.run([sys.executable, REFERENCE, 'decode', candidate_path, out.name], capture_output=True, text=True)
        if run.returncode != 0:
            return f'reference decoder failed: {run.stderr.strip()[-200:]}'
        expected = np.frombuffer(open(out.name, 'rb').read(), dtype=np.uint8)
    got = np.frombuffer(bytes(received.PixelData), dtype=np.uint8)
    if got.size != expected.size and got.size != expected.size + 1:
        return f'decoded pixel data is {got.size} bytes, reference {expected.size}'
    got = got[:expected.size]
    bits = int(received.BitsAllocated)
    kind = ('<i' if int(received.PixelRepresentation) == 1 else '<u') + str(max(1, bits // 8))
    diff = np.abs(got.view(kind).astype(np.int64) - expected.view(kind).astype(np.int64)).max() if bits >= 8 else int((got != expected).sum())
    tolerance = 1 if candidate_syntax in LOSSY else 0
    return None if diff <= tolerance else f'decoded pixels differ from the reference by up to {diff}'


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        received = pydicom.dcmread(job['received'], force=True)
        best = None
        result = {'received': job['received'], 'match': None, 'differences': []}
        for candidate in job['candidates']:
            original = pydicom.dcmread(candidate, force=True)
            decoded = syntax(original) not in NATIVE and syntax(received) in NATIVE
            try:
                diffs = differences(received, original, compare_pixels=not decoded, decoded=decoded)
            except Exception as e:  # pydicom cannot read some attribute of one of the two files
                diffs = [f'pydicom cannot compare: {e}']
            if not diffs and decoded and 'PixelData' in original:
                problem = reference_pixels_differ(received, candidate, syntax(original))
                if problem:
                    diffs = [problem]
            if not diffs:
                result['match'] = candidate
                result['differences'] = []
                break
            if best is None or len(diffs) < len(best):
                best = diffs
        if result['match'] is None:
            result['differences'] = (best or [])[:10]
        print(json.dumps(result), flush=True)


main()
