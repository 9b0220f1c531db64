#!/usr/bin/python3
"""Generates charset.expectations.json: how pydicom 2.3 decodes every non-ASCII (or escape-switched) text value
(SH LO ST LT PN UC UT, nested items included) of the sample files with character sets.
Run once from the repository root with Debian's python3-pydicom:
    /usr/bin/python3 packages/dicom/src/charset.expectations.py
The JSON is committed; charset.test.ts compares the TypeScript decoder with it."""
import json
import os
import sys
import warnings

import pydicom

ROOT = os.path.join('..', 'shared', 'dicom-samples')
FOLDERS = [
    'malformed/charsets',
    'media-cd/clunie-charset-cd',
    'media-cd/furuhashi-mr-20180107-wakasa-cd/DCMDT',
    'ct-series/furuhashi-lspine-ct-20180201-sagittal3mm',
    'mr-series/furuhashi-lspine-mr-20180113-prior',
]
TEXT_VRS = {'SH', 'LO', 'ST', 'LT', 'PN', 'UC', 'UT'}


def collect(ds, prefix, out):
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)  # before conversion: the raw bytes, when the element is still raw
        raw_bytes = raw.value if isinstance(getattr(raw, 'value', None), bytes) else None
        elem = ds[tag]
        key = prefix + '%08X' % elem.tag
        if elem.VR == 'SQ':
            for i, item in enumerate(elem.value):
                collect(item, key + '/%d/' % i, out)
        elif elem.VR in TEXT_VRS and raw_bytes is not None and any(b >= 0x80 or b == 0x1b for b in raw_bytes):
            values = elem.value if elem.VM > 1 else [elem.value]
            out[key] = [str(v) for v in values]


def main():
    warnings.simplefilter('ignore')
    result = {}
    for folder in FOLDERS:
        for name in sorted(os.listdir(os.path.join(ROOT, folder))):
            rel = folder + '/' + name
            try:
                ds = pydicom.dcmread(os.path.join(ROOT, rel))
            except Exception:  # not DICOM (e.g. the CD's DICOMDIR is in another folder)
                continue
            values = {}
            collect(ds, '', values)
            charset = ds.get('SpecificCharacterSet', '')
            result[rel] = {'charset': '\\'.join(charset) if isinstance(charset, pydicom.multival.MultiValue) else charset,
                           'values': values}
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)


main()
