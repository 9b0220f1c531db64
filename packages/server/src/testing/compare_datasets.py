"""Test helper (Debian python3-pydicom): do two DICOM files hold the same attributes and pixel data?

Reads JSON lines {"received": PATH, "candidates": [PATH...]} on stdin and prints one JSON line per input:
{"received": PATH, "match": CANDIDATE or null, "differences": [...]} — the first candidate whose every
attribute outside the file meta group equals the received file's (sequences compared item by item,
whatever their length encoding). Pixel Data is compared as bytes when both files use the same transfer
syntax; when the received file is native and the candidate compressed, the caller compares decoded pixels.
"""
import json
import sys

import pydicom

PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}


def differences(a, b, path='', compare_pixels=True):
    out = []
    tags = sorted(set(a.keys()) | set(b.keys()))
    for tag in tags:
        if tag.group == 0x0002 or (tag.element == 0 and tag.group != 0):
            continue  # file meta is the sender's; group lengths are encoding details
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
            same_syntax = str(getattr(received.file_meta, 'TransferSyntaxUID', '')) == str(getattr(original.file_meta, 'TransferSyntaxUID', '')) \
                or original.file_meta.get('TransferSyntaxUID') is None
            diffs = differences(received, original, compare_pixels=same_syntax)
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
