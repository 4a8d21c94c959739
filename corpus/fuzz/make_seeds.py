#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (fuzz/README.md).

    python3.11 corpus/fuzz/make_seeds.py [--wire-helper PATH]

One small file per input, named "seed-<what>", in corpus/fuzz/<target>/:

  decode, judge,     an options byte (fuzz/fuzz_common.h: bits 0-1 the
  roundtrip          Python 2 str encoding, bit 2 the pickle.py reader,
                     bits 3-5 a built-in policy for the judge target),
                     then the pickle bytes.  Sources: pickle.dumps of varied
                     objects in protocols 0-5, every bytes constant of
                     CPython's test/pickletester.py (the DATA vectors and the
                     error cases), the inputs of tests/suites/, the benign and
                     malicious corpora, and hand-made edge cases below;
  wire               what an honest child sends for each decode seed: the
                     wire encoding written by pj_fuzz_wire_seeds (built with
                     the fuzz targets; found in build*/fuzz/ unless given);
  policy             the built-in profiles and hand-made policy files;
  container          whole files: zip archives as torch.save and np.savez
                     write them, .npy, PyTorch's legacy format, compressed
                     wrappers, tar, polyglots and broken archives, plus the
                     raw pickle seeds, and the files of corpus/containers/
                     (real, crafted and attack files up to 64 KiB);
  zip, npy,          one grammar each, from the container seeds and the
  decompress,        files of corpus/containers/ (by their magic): archives;
  joblib             .npy files and the .npy members of archives, plus
                     hand-made header literals; an options byte naming the
                     codec (fuzz/fuzz_decompress.c), then a compressed
                     stream; an options byte (fuzz/fuzz_joblib.c), then a
                     joblib pickle stream, decompressed when it was
                     compressed.

Only seed-* files are rewritten; inputs merged in by fuzz/run_campaign.sh
(named by their hash) are left alone.  Nothing here unpickles anything.
Deterministic: re-executes itself with PYTHONHASHSEED=0 (set order).
"""
import argparse
import ast
import collections
import datetime
import decimal
import fractions
import glob
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAX_SEED = 16 * 1024  # bytes: seeds stay small, the engines grow them

ENC_ASCII, ENC_LATIN1, ENC_UTF8, ENC_BYTES = 0, 1, 2, 3
PYREADER = 0x04


def policy_bits(k):
    return (k & 7) << 3


# ---------------------------------------------------------------- objects

class Plain:
    pass


class WithSlots:
    __slots__ = ("a", "b")


class WithState:
    def __getstate__(self):
        return ("state", 1)

    def __setstate__(self, st):
        self.st = st


class ListSub(list):
    pass


class DictSub(dict):
    pass


class KwNew:
    def __new__(cls, *, key=None):
        return super().__new__(cls)

    def __getnewargs_ex__(self):
        return (), {"key": 1}


def objects():
    """(name, object) pairs; pickled in every protocol that can."""
    shared = [1, 2]
    cyc = []
    cyc.append(cyc)
    dcyc = {}
    dcyc["self"] = dcyc
    p = Plain()
    p.x = 1
    p.me = p
    s = WithSlots()
    s.a = "a"
    ls = ListSub([1, 2])
    ls.attr = "x"
    ds = DictSub(k=1)
    deep = []
    cur = deep
    for _ in range(200):
        nxt = []
        cur.append(nxt)
        cur = nxt
    return [
        ("none", None), ("true", True), ("false", False),
        ("int-small", 7), ("int-neg", -1), ("int-255", 255), ("int-256", 256),
        ("int-65535", 65535), ("int-2p31", 2 ** 31), ("int-neg2p31", -2 ** 31 - 1),
        ("int-2p63", 2 ** 63), ("int-2p64-neg", -2 ** 64), ("int-big", 7 ** 300),
        ("float", 1.5), ("float-neg0", -0.0), ("float-inf", float("inf")),
        ("float-nan", float("nan")), ("float-tiny", 5e-324), ("float-big", 1.7976931348623157e308),
        ("str-empty", ""), ("str-ascii", "hello"), ("str-unicode", "h\u00e9llo \u20ac \U0001f600"),
        ("str-surrogate", "\ud800x\udfff"), ("str-nl", "a\nb\\c\x00"),
        ("str-long", "x" * 300),
        ("bytes-empty", b""), ("bytes", b"\x00\xff abc"), ("bytes-long", bytes(range(256)) * 2),
        ("bytearray", bytearray(b"ba")), ("bytearray-empty", bytearray()),
        ("tuple0", ()), ("tuple1", (1,)), ("tuple2", (1, 2)), ("tuple3", (1, 2, 3)),
        ("tuple4", (1, 2, 3, 4)), ("list", [1, "a", None]), ("list-empty", []),
        ("list-1001", list(range(1001))), ("dict", {"a": 1, 2: "b", (1, 2): None}),
        ("dict-empty", {}), ("dict-1001", {i: i for i in range(1001)}),
        ("set", {1, 2, 3}), ("set-empty", set()), ("frozenset", frozenset({1, "a"})),
        ("frozenset-empty", frozenset()),
        ("shared", [shared, shared, (shared,)]), ("cycle-list", cyc), ("cycle-dict", dcyc),
        ("cycle-obj", p), ("slots", s), ("getstate", WithState()),
        ("list-subclass", ls), ("dict-subclass", ds), ("newobj-ex", KwNew()),
        ("deep-200", deep),
        ("complex", 1 + 2j), ("range", range(1, 10, 2)), ("slice", slice(1, None, 3)),
        ("ordereddict", collections.OrderedDict([("b", 1), ("a", 2)])),
        ("defaultdict", collections.defaultdict(list, {"a": [1]})),
        ("deque", collections.deque([1, 2], maxlen=5)), ("counter", collections.Counter("abca")),
        ("datetime", datetime.datetime(2020, 1, 2, 3, 4, 5, 6)), ("date", datetime.date(1999, 12, 31)),
        ("timedelta", datetime.timedelta(days=-1, seconds=5)), ("decimal", decimal.Decimal("-1.50")),
        ("fraction", fractions.Fraction(3, 4)), ("type", int), ("function", len),
        ("exception", ValueError("bad", 1)), ("ellipsis", ...), ("notimplemented", NotImplemented),
    ]


def buffer_pickles():
    """Protocol 5 out-of-band and in-band buffers."""
    out = []
    pb = pickle.PickleBuffer(b"abc")
    out.append(("p5-oob-readonly", pickle.dumps(pb, 5, buffer_callback=lambda b: False)))
    pbw = pickle.PickleBuffer(bytearray(b"abc"))
    out.append(("p5-oob-writable", pickle.dumps(pbw, 5, buffer_callback=lambda b: False)))
    out.append(("p5-inband-bytearray", pickle.dumps(pbw, 5)))
    out.append(("p5-inband-bytes", pickle.dumps(pb, 5)))
    out.append(("p5-oob-two", pickle.dumps([pb, pbw, pb], 5, buffer_callback=lambda b: False)))
    return out


def dumped():
    out = []
    for name, obj in objects():
        for proto in range(0, 6):
            try:
                data = pickle.dumps(obj, proto)
            except Exception:  # noqa: BLE001 - some objects need a newer protocol
                continue
            out.append(("p%d-%s" % (proto, name), data))
    return out + buffer_pickles()


# ---------------------------------------------------------------- pickletester

def pickletester_constants():
    """Every bytes constant of test/pickletester.py, read with ast (the
    module is not imported)."""
    import test
    path = os.path.join(os.path.dirname(test.__file__), "pickletester.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    seen = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
            if 0 < len(node.value) <= MAX_SEED:
                seen.add(node.value)
    return [("pt-%s" % hashlib.sha1(b).hexdigest()[:12], b) for b in sorted(seen)]


# ---------------------------------------------------------------- hand-made

def le4(n):
    return struct.pack("<I", n & 0xFFFFFFFF)


def le8(n):
    return struct.pack("<Q", n & 0xFFFFFFFFFFFFFFFF)


def frame(payload):
    return b"\x95" + le8(len(payload)) + payload


def handmade():
    """Edge cases CPython's writers never produce.  Many are invalid on
    purpose: they reach the decoder's error paths."""
    h = [
        ("empty", b""),
        ("stop-only", b"."),
        ("two-pickles", b"N.K\x01."),
        ("trailing-garbage", b"N.garbage"),
        ("proto0", b"\x80\x00N."), ("proto6", b"\x80\x06N."), ("proto-255", b"\x80\xffN."),
        ("proto-twice", b"\x80\x02\x80\x04N."),
        ("frame-exact", b"\x80\x04" + frame(b"N.")),
        ("frame-short", b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00N."),
        ("frame-op-spans-end", b"\x80\x04" + frame(b"K") + b"\x01."),
        ("frame-nested", b"\x80\x04" + frame(frame(b"N.")[:5]) + b"N."),
        ("frame-empty", b"\x80\x04" + frame(b"") + b"N."),
        ("frame-huge", b"\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7fN."),
        ("memo-text", b"(lp0\nI1\nag0\na."),
        ("memo-get-missing", b"g7\n."),
        ("memo-binput-big", b"]r\xff\xff\xff\x7fj\xff\xff\xff\x7f."),
        ("memo-memoize-many", b"\x80\x04" + b"]\x94" * 300 + b"." ),
        ("memo-put-negative", b"Np-1\n."),
        ("memo-put-overwrite", b"]q\x00}q\x00h\x00."),
        ("memo-get-text-spaces", b"Np 1\ng1 \n."),
        ("cycle-append", b"]q\x00h\x00a."),
        ("cycle-dict", b"}q\x00X\x01\x00\x00\x00ah\x00s."),
        ("cycle-via-tuple", b"]q\x00h\x00\x85q\x01a."),
        ("mark-pop", b"(K\x011N."),
        ("mark-unclosed", b"(N."),
        ("mark-missing-tuple", b"K\x01t."),
        ("mark-deep", b"(" * 300 + b"t" * 300 + b"."),
        ("pop-empty", b"0N."),
        ("dup", b"K\x012\x86."),
        ("dup-fanout", b"]" + b"2" * 200 + b"(" + b"" + b"t."),
        ("int-bool", b"I01\nI00\n\x86."),
        ("int-neg-zero", b"I-0\n."), ("int-plus", b"I+5\n."), ("int-space", b"I 12\n."),
        ("int-hex", b"I0x10\n."), ("int-octal", b"I010\n."), ("int-underscore", b"I1_0\n."),
        ("int-huge", b"I" + b"9" * 400 + b"\n."),
        ("long-suffix", b"L123L\n."), ("long-nosuffix", b"L-5\n."), ("long-empty", b"L\n."),
        ("long1-empty", b"\x80\x02\x8a\x00."), ("long1-neg", b"\x80\x02\x8a\x01\xff."),
        ("long4-neg-len", b"\x80\x02\x8b\xff\xff\xff\xff."),
        ("long4-big", b"\x80\x02\x8b" + le4(300) + b"\x01" * 300 + b"."),
        ("binint-neg", b"J\xff\xff\xff\xff."), ("binint2", b"M\xff\xff."),
        ("float-text", b"F1.5\n."), ("float-nan", b"Fnan\n."), ("float-neginf", b"F-inf\n."),
        ("float-overflow", b"F1e500\n."), ("float-junk", b"F1.5x\n."), ("float-hexlit", b"F0x1p3\n."),
        ("binfloat-nan", b"G\x7f\xf8\x00\x00\x00\x00\x00\x01."),
        ("string-sq", b"S'a\\x41\\n\\'b'\n."), ("string-dq", b"S\"x\"\n."),
        ("string-unquoted", b"Sabc\n."), ("string-mismatched", b"S'abc\"\n."),
        ("string-bad-escape", b"S'\\x4'\n."), ("string-octal", b"S'\\101\\7'\n."),
        ("string-high", b"S'\xe9'\n."),
        ("unicode-escapes", b"V\\u20ac\\U0001f600\\ud800\\x\n."), ("unicode-raw", b"V\xc3\xa9\n."),
        ("unicode-bad-u", b"V\\u12\n."),
        ("binstring-high", b"T\x02\x00\x00\x00\xe9\xff."), ("short-binstring-utf8", b"U\x02\xc3\xa9."),
        ("binstring-neg", b"T\xff\xff\xff\xff."),
        ("binunicode-bad-utf8", b"X\x01\x00\x00\x00\xff."),
        ("binunicode-surrogate", b"X\x03\x00\x00\x00\xed\xa0\x80."),
        ("binunicode8", b"\x80\x04\x8d" + le8(3) + b"abc."),
        ("binbytes8", b"\x80\x04\x8e" + le8(2) + b"ab."),
        ("bytearray8", b"\x80\x05\x96" + le8(2) + b"ab."),
        ("binbytes-truncated", b"\x80\x03B\x10\x00\x00\x00abc"),
        ("short-binbytes", b"\x80\x03C\x03abc."),
        ("global-os-system", b"cos\nsystem\n(S'id'\ntR."),
        ("global-posix-system", b"\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R."),
        ("global-builtin-eval", b"c__builtin__\neval\n(S'1'\ntR."),
        ("global-compat-xrange", b"c__builtin__\nxrange\n(K\x01tR."),
        ("global-compat-copyreg", b"ccopy_reg\n_reconstructor\n(c__main__\nC\nc__builtin__\nobject\nNtR."),
        ("global-exceptions", b"cexceptions\nValueError\n(S'x'\ntR."),
        ("global-dotted-p4", b"\x80\x04\x8c\x02os\x94\x8c\x0bpath.join.x\x94\x93."),
        ("global-dotted-p2", b"\x80\x02cos\npath.join\n."),
        ("global-empty", b"c\n\n."), ("global-non-utf8", b"c\xff\nx\n."),
        ("global-no-newline", b"cos"),
        ("stack-global-nonstr", b"\x80\x04K\x01K\x02\x93."),
        ("stack-global", b"\x80\x04\x8c\x08builtins\x8c\x03len\x93\x8c\x02ab\x85R."),
        ("inst", b"(S'x'\nicollections\nOrderedDict\n."),
        ("inst-empty", b"(i__main__\nC\n."),
        ("obj", b"(ccollections\nOrderedDict\no."),
        ("newobj", b"\x80\x02c__main__\nC\n)\x81}X\x01\x00\x00\x00ak\x01sb."),
        ("newobj-ex", b"\x80\x04\x8c\x08__main__\x8c\x01C\x93)}\x92."),
        ("newobj-nontuple", b"\x80\x02c__main__\nC\nK\x01\x81."),
        ("reduce-nontuple", b"c__main__\nf\nK\x01R."),
        ("reduce-list", b"]]R."),
        ("build-slotstate", b"\x80\x02c__main__\nC\n)\x81N}X\x01\x00\x00\x00ak\x01s\x86b."),
        ("build-on-list", b"]}b."),
        ("build-on-int", b"K\x01}b."),
        ("appends-on-obj", b"\x80\x02c__main__\nL\n)\x81(K\x01K\x02e."),
        ("appends-on-none", b"N(K\x01e."),
        ("append-on-tuple", b")K\x01a."),
        ("setitems-odd", b"}(K\x01K\x02K\x03u."),
        ("setitems-unhashable", b"}(]K\x01u."),
        ("setitem-on-obj", b"\x80\x02c__main__\nD\n)\x81K\x01K\x02s."),
        ("dict-odd", b"(K\x01d."),
        ("dict-dup-keys", b"(K\x01K\x02K\x01K\x03d."),
        ("additems", b"\x80\x04\x8f(K\x01K\x02\x90."),
        ("additems-on-frozenset", b"\x80\x04(\x91(K\x01\x90."),
        ("additems-unhashable", b"\x80\x04\x8f(]\x90."),
        ("frozenset", b"\x80\x04(K\x01K\x01\x91."),
        ("frozenset-of-list", b"\x80\x04(]\x91."),
        ("ext1", b"\x80\x02\x82\x01."), ("ext2", b"\x80\x02\x83\x00\x01."),
        ("ext4-neg", b"\x80\x02\x84\xff\xff\xff\xff."), ("ext1-zero", b"\x80\x02\x82\x00."),
        ("persid", b"Pstorage\n."), ("persid-bad-utf8", b"P\xff\n."),
        ("binpersid", b"\x80\x02(X\x07\x00\x00\x00storageK\x01tQ."),
        ("next-buffer", b"\x80\x05\x97."), ("readonly-buffer", b"\x80\x05\x97\x98."),
        ("readonly-bytearray", b"\x80\x05\x96" + le8(1) + b"x\x98."),
        ("readonly-bytes", b"\x80\x05C\x01x\x98."),
        ("readonly-int", b"\x80\x05K\x01\x98."),
        ("unknown-opcode", b"\xff."), ("unknown-opcode-zero", b"\x00."),
        ("truncated-binint", b"J\x01\x02"), ("no-stop", b"K\x01"),
        ("stop-with-empty-stack", b"."), ("stop-with-two", b"K\x01K\x02."),
        ("tuple123-underflow", b"\x80\x02K\x01\x87."),
        ("deep-lists", b"\x80\x02" + b"](" * 2000 + b"e" * 2000 + b"."),
        ("deep-tuples", b"\x80\x02" + b"K\x01\x85" + b"\x85" * 2000 + b"."),
        ("deep-dicts", b"\x80\x02" + b"}(K\x01" * 500 + b"N" + b"u" * 500 + b"."),
        ("wide-list", b"\x80\x02](" + b"K\x01" * 3000 + b"e."),
        ("joblib-like", b"\x80\x03cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}X\x05\x00\x00\x00shapeK\x03\x85sb\x00\x01\x02N."),
    ]
    return h


def py2_str_cases():
    """Python 2 str opcodes: seeded under every encoding option."""
    return [
        ("py2-string-latin", b"S'caf\xe9'\n."),
        ("py2-binstring-utf8", b"T\x04\x00\x00\x00caf\xc3."),
        ("py2-short-binstring", b"U\x04\xe2\x82\xacx."),
        ("py2-dict", b"(dp0\nS'key'\np1\nS'\\xff'\np2\ns."),
        ("py2-global-in-string", b"c__builtin__\nstr\n(S'abc'\ntR."),
    ]


def suite_inputs():
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "suites", "*", "*", "input.pickle"))):
        if os.path.getsize(path) <= MAX_SEED:
            case = os.path.basename(os.path.dirname(path))
            kind = os.path.basename(os.path.dirname(os.path.dirname(path)))
            with open(path, "rb") as f:
                out.append(("suite-%s-%s" % (kind, case), f.read()))
    return out


def corpus_files():
    out = []
    for sub in ("benign", "malicious", "examples"):
        for path in sorted(glob.glob(os.path.join(ROOT, "corpus", sub, "**", "*"), recursive=True)):
            if os.path.isfile(path) and os.path.getsize(path) <= MAX_SEED \
                    and not path.endswith((".py", ".md", ".json", ".txt")):
                rel = os.path.relpath(path, os.path.join(ROOT, "corpus")).replace("/", "-")
                with open(path, "rb") as f:
                    out.append(("corpus-%s" % rel, f.read()))
    return out


# ---------------------------------------------------------------- container seeds

TENSOR_PICKLE = (b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x06\x00\x00\x00weightq\x02"
                 b"ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04"
                 b"ctorch\nFloatStorage\nq\x05X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07"
                 b"K\x04tq\x08QK\x00K\x02K\x02\x86q\tK\x02K\x01\x86q\n\x89h\x00)Rq\x0btq\x0cRq\rs.")


def _zip(members, compression=None, comment=b""):
    import zipfile
    buf = io.BytesIO()
    comp = zipfile.ZIP_STORED if compression is None else compression
    with zipfile.ZipFile(buf, "w", comp) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = comp
            z.writestr(info, data)
        z.comment = comment
    return buf.getvalue()


def _npy(descr, shape, payload, version=1):
    header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    hb = header.encode("latin-1")
    lenbytes = 2 if version == 1 else 4
    pad = 64 - (10 + (lenbytes - 2) + len(hb) + 1) % 64
    hb += b" " * pad + b"\n"
    n = len(hb).to_bytes(lenbytes, "little")
    return b"\x93NUMPY" + bytes([version, 0]) + n + hb + payload


def container_seeds():
    """Whole input files: zip archives as torch.save and np.savez write them,
    .npy files, PyTorch's legacy format, compressed wrappers, and archives
    with the defects a hostile one has."""
    import bz2
    import gzip
    import lzma
    import tarfile
    import warnings
    import zipfile
    import zlib
    torch_members = [("archive/data.pkl", TENSOR_PICKLE), ("archive/byteorder", b"little"),
                     ("archive/data/0", bytes(16)), ("archive/version", b"3\n"),
                     (".data/serialization_id", b"1234567890")]
    obj_npy = _npy("|O", (2,), pickle.dumps([1, "a"], 2))
    f8_npy = _npy("<f8", (3,), bytes(24))
    out = [
        ("torch-zip", _zip(torch_members)),
        ("torch-zip-deflated", _zip(torch_members, zipfile.ZIP_DEFLATED)),
        ("torchscript-zip", _zip([("m/constants.pkl", pickle.dumps((1, 2.0), 2)),
                                  ("m/data.pkl", TENSOR_PICKLE), ("m/code/__torch__.py", b"x"),
                                  ("m/version", b"6\n")])),
        ("npz", _zip([("a.npy", f8_npy), ("b.npy", obj_npy)])),
        ("npz-compressed", _zip([("a.npy", f8_npy), ("b.npy", obj_npy)], zipfile.ZIP_DEFLATED)),
        ("zip-empty", _zip([])),
        ("zip-comment", _zip([("x/data.pkl", b"N.")], comment=b"hello")),
        ("zip-other", _zip([("readme.txt", b"not a pickle"), ("p.pkl", b"\x80\x04K\x01.")])),
        ("npy-f8", f8_npy), ("npy-object", obj_npy),
        ("npy-v2", _npy("<i4", (1,), b"\x01\x00\x00\x00", version=2)),
        ("npy-v3-utf8", _npy("<U1", (1,), b"a\x00\x00\x00", version=2).replace(b"NUMPY\x02", b"NUMPY\x03", 1)),
        ("npy-bad-literal", b"\x93NUMPY\x01\x00\x10\x00{'descr': eval}\n"),
        ("torch-legacy", pickle.dumps(0x1950a86a20f9469cfc6c, 2) + pickle.dumps(1001, 2)
         + pickle.dumps({"protocol_version": 1001, "little_endian": True,
                         "type_sizes": {"short": 2, "int": 4, "long": 4}}, 2)
         + TENSOR_PICKLE + pickle.dumps(["0"], 2) + (4).to_bytes(8, "little") + bytes(16)),
        ("torch-preview", b"PYTORCH1" + TENSOR_PICKLE),
        ("gzip", gzip.compress(TENSOR_PICKLE, mtime=0)),
        ("bzip2", bz2.compress(TENSOR_PICKLE)),
        ("xz", lzma.compress(TENSOR_PICKLE)),
        ("lzma-alone", lzma.compress(TENSOR_PICKLE, format=lzma.FORMAT_ALONE)),
        ("zlib-joblib", b"ZF0x%08x" % len(TENSOR_PICKLE) + zlib.compress(TENSOR_PICKLE)),
        ("zlib-bare", zlib.compress(TENSOR_PICKLE)),
        ("lz4-magic", b"\x04\x22\x4d\x18" + bytes(16)),
        ("7z-magic", b"7z\xbc\xaf\x27\x1c" + bytes(26)),
        ("polyglot-pickle-zip", b"\x80\x02K\x01." + _zip([("a/data.pkl", b"\x80\x02K\x02.")])),
        ("polyglot-npy-zip", f8_npy + _zip([("a/data.pkl", b"N.")])),
        ("raw-pickle", TENSOR_PICKLE),
    ]
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        info = tarfile.TarInfo("data.pkl")
        info.size = len(TENSOR_PICKLE)
        info.mtime = 0
        t.addfile(info, io.BytesIO(TENSOR_PICKLE))
    out.append(("tar", tbuf.getvalue()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate
        out.append(("zip-duplicate-name", _zip([("a/data.pkl", b"N."), ("a/data.pkl", b"\x80\x02K\x07.")])))
    z = _zip(torch_members)
    out.append(("zip-truncated-cd", z[:-10]))
    out.append(("zip-local-only", z[:z.rfind(b"PK\x01\x02")]))
    out.append(("zip-nested", _zip([("outer/inner.zip", _zip(torch_members)), ("outer/data.pkl", b"N.")])))
    return out


# ---------------------------------------------------------------- one grammar each

# fuzz/fuzz_decompress.c's options byte: codec in bits 0-2, multi in bit 3
CODEC_ZLIB, CODEC_GZIP, CODEC_BZIP2, CODEC_XZ, CODEC_LZ4 = 1, 2, 3, 4, 5
MULTI = 0x08
# fuzz/fuzz_joblib.c's options byte: bit 3 reads as an old "ZF" file
JOBLIB_COMPAT = 0x08

NPY_HEADERS = [
    ("structured", "{'descr': [('a', '<i4'), ('b', ('<f8', (2,)))], 'fortran_order': False, 'shape': (2,), }"),
    ("structured-object", "{'descr': [('a', '<i4'), ('o', '|O')], 'fortran_order': False, 'shape': (1,), }"),
    ("subarray-object", "{'descr': [('s', ('|O', (2,)))], 'fortran_order': False, 'shape': (1,), }"),
    ("fortran", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"),
    ("scalar", "{'descr': '<i8', 'fortran_order': False, 'shape': (), }"),
    ("zero-dim", "{'descr': '<i8', 'fortran_order': False, 'shape': (0, 5), }"),
    ("big-shape", "{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"),
    ("reordered", "{'shape': (1,), 'descr': '<u2', 'fortran_order': False}"),
    ("double-quotes", '{"descr": "<f8", "fortran_order": False, "shape": (1,)}'),
    ("escapes", "{'descr': '\\x3cf8', 'fortran_order': False, 'shape': (1,), }"),
    ("titles", "{'descr': [(('title', 'a'), '<i4')], 'fortran_order': False, 'shape': (1,), }"),
    ("list-shape", "{'descr': '<f8', 'fortran_order': False, 'shape': [1], }"),
    ("extra-key", "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}"),
    ("call", "{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,)}"),
    ("nested-deep", "{'descr': " + "(" * 60 + "'<f8'" + ",)" * 60 + ", 'fortran_order': False, 'shape': (1,)}"),
]


def _raw_npy(header, payload=b"", version=1):
    hb = header.encode("utf-8" if version == 3 else "latin-1") + b"\n"
    lenbytes = 2 if version == 1 else 4
    return b"\x93NUMPY" + bytes([version, 0]) + len(hb).to_bytes(lenbytes, "little") + hb + payload


def container_files():
    """The files of corpus/containers/, as (name, bytes)."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "corpus", "containers", "*", "*"))):
        base = os.path.basename(path)
        if base in ("INDEX", "DTYPES") or base.endswith(".py") or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        rel = os.path.relpath(path, os.path.join(ROOT, "corpus", "containers")).replace("/", "-")
        out.append((rel, data))
    return out


def _codec(data):
    """fuzz_decompress's codec for a stream's magic, or None."""
    if data[:2] == b"\x1f\x8b":
        return CODEC_GZIP
    if data[:3] == b"BZh":
        return CODEC_BZIP2
    if data[:6] == b"\xfd7zXZ\x00" or data[:1] == b"\x5d":
        return CODEC_XZ
    if data[:4] == b"\x04\x22\x4d\x18":
        return CODEC_LZ4
    if len(data) >= 2 and data[0] & 0x0f == 8 and (data[0] << 8 | data[1]) % 31 == 0:
        return CODEC_ZLIB
    return None


def _inflate(codec, data):
    """The whole stream, for joblib seeds, or None (lz4: no module here)."""
    import bz2
    import gzip
    import lzma
    import zlib
    try:
        if codec == CODEC_GZIP:
            return gzip.decompress(data)
        if codec == CODEC_BZIP2:
            return bz2.decompress(data)
        if codec == CODEC_XZ:
            return lzma.decompress(data)
        if codec == CODEC_ZLIB:
            return zlib.decompress(data)
    except (OSError, EOFError, lzma.LZMAError, zlib.error):
        return None
    return None


def _zip_members(data):
    import zipfile
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [(i.filename, z.read(i)) for i in z.infolist()[:64]]
    except Exception:  # a broken archive on purpose: no members to add
        return []


def grammar_seeds():
    """{target: [(name, bytes)]} for zip, npy, decompress and joblib."""
    import zipfile
    files = container_seeds() + container_files()
    out = {"zip": [], "npy": [], "decompress": [], "joblib": []}
    for name, data in files:
        if b"PK\x05\x06" in data[-(1 << 16) - 22:]:
            out["zip"].append((name, data))
            for mname, mdata in _zip_members(data):
                if mdata[:6] == b"\x93NUMPY":
                    out["npy"].append(("%s-%s" % (name, mname.replace("/", "-")), mdata))
        if data[:6] == b"\x93NUMPY":
            out["npy"].append((name, data))
        zf = data[:4] == b"ZF0x"
        codec = CODEC_ZLIB if zf else _codec(data)
        if codec:
            out["decompress"].append((name, bytes([codec | MULTI]) + (data[21:] if zf else data)))
            out["decompress"].append((name + "-single", bytes([codec]) + data))
            plain = _inflate(codec, data[21:] if zf else data)
            if plain and b"ArrayWrapper" in plain:
                out["joblib"].append((name + "-inflated", bytes([JOBLIB_COMPAT if zf else 0]) + plain))
        if data[:1] == b"\x80" and b"ArrayWrapper" in data:
            out["joblib"].append((name, b"\x00" + data))
            out["joblib"].append((name + "-pyreader", bytes([PYREADER]) + data))
    for name, header in NPY_HEADERS:
        out["npy"].append(("literal-" + name, _raw_npy(header, bytes(16))))
    out["npy"].append(("literal-v3-utf8", _raw_npy("{'descr': [('\u00e9', '<i4')], 'fortran_order': False, 'shape': (1,), }", bytes(4), 3)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("archive/data.pkl", date_time=(2020, 1, 1, 0, 0, 0)), TENSOR_PICKLE)
    plain = buf.getvalue()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        with z.open(zipfile.ZipInfo("archive/data.pkl", date_time=(2020, 1, 1, 0, 0, 0)), "w",
                    force_zip64=True) as f:
            f.write(TENSOR_PICKLE)
    out["zip"].append(("zip64-forced", buf.getvalue()))
    out["zip"].append(("data-in-front", b"#!prefix\n" * 8 + plain))
    out["zip"].append(("comment-with-end", plain[:-2] + b"\x18\x00PK\x05\x06" + bytes(18)))
    for t in out:
        out[t] = [(n, d) for n, d in out[t] if len(d) <= MAX_SEED * 4]
        names = [n for n, _ in out[t]]
        if len(set(names)) != len(names):
            sys.exit("duplicate %s seed names" % t)
    return out


# ---------------------------------------------------------------- policy seeds

POLICY_HANDMADE = [
    ("minimal", "version: 1\n"),
    ("empty", ""),
    ("not-a-map", "- a\n- b\n"),
    ("version-2", "version: 2\n"),
    ("full", """version: 1
name: fuzz-full
description: every key of the schema
include: [python-data]
buffers: true
globals:
  - module: collections
    name: OrderedDict
    uses: [reference, call, setitem]
    args: ["list of (str, any)"]
    min_args: 0
    note: ordered dicts
  - module: mymod
    name: Foo
    uses: [instantiate, build, append, additem]
    args: []
    varargs: any
    kwargs: {key: int, other: "str | none"}
    state: "dict of str: any | (none, dict of str: any)"
  - module: torch._utils
    name: _rebuild_tensor_v2
    uses: [call]
    args: [persid, int, "tuple of int", "tuple of int", bool, "instance(collections:OrderedDict)", dict]
    min_args: 6
    instance_of_arg: 0
persistent_ids:
  - shape: "('storage', global(reference), str, str, int)"
    note: zip
extensions:
  - code: 1
    module: copyreg
    name: _reconstructor
    note: registered
indirect_calls:
  - callable: "instance(mymod:Foo)"
    uses: [call]
    args: [int, "frozenset of int", "set of str", bytes, bytearray, float, true, false, 'x', "y", 3, ()]
    state: none
"""),
    ("dangerous-warned", """version: 1
globals:
  - {module: os, name: system, uses: [call]}
  - {module: builtins, name: __import__, uses: [call, mutate]}
  - {module: a, name: b.__class__, uses: [reference]}
"""),
    ("wildcard", "version: 1\nglobals:\n  - module: os\n    name: '*'\n"),
    ("unknown-key", "version: 1\nglobal: []\n"),
    ("duplicate-key", "version: 1\nversion: 1\n"),
    ("anchor", "version: 1\nname: &a x\ndescription: *a\n"),
    ("tag", "version: !!int 1\n"),
    ("two-docs", "version: 1\n---\nversion: 1\n"),
    ("flow", "{version: 1, globals: [{module: m, name: n, uses: [call], args: [int]}]}\n"),
    ("block-scalars", "version: 1\ndescription: |\n  line one\n  line two\nname: >\n  folded\n  text\n"),
    ("quoted", 'version: 1\nname: "esc \\x41 \\u20ac \\U0001F600 \\t"\ndescription: \'it\'\'s\'\n'),
    ("deep-flow", "version: 1\nname: " + "[" * 40 + "]" * 40 + "\n"),
    ("shape-deep", "version: 1\nglobals:\n  - module: m\n    name: n\n    uses: [call]\n    args: [\"" + "list of " * 12 + "int\"]\n"),
    ("shape-errors", "version: 1\nglobals:\n  - module: m\n    name: n\n    uses: [call]\n    args: [\"tuple of\", \"dict of int\", \"global()\", \"instance(a)\", \"(,)\", \"'unterminated\"]\n"),
    ("include-builtins", "version: 1\ninclude: [pytorch, numpy, sklearn, default, python-data]\n"),
    ("include-unknown", "version: 1\ninclude: [no-such-profile]\n"),
    ("bad-uses", "version: 1\nglobals:\n  - module: m\n    name: n\n    uses: [explode]\n"),
    ("min-args-range", "version: 1\nglobals:\n  - module: m\n    name: n\n    uses: [call]\n    args: [int]\n    min_args: 5\n"),
    ("ext-code-range", "version: 1\nextensions:\n  - {code: 0, module: m, name: n}\n  - {code: 2147483648, module: m, name: n}\n"),
    ("bad-utf8", "version: 1\nname: caf\udce9\n"),
    ("nul", "version: 1\nname: a\x00b\n"),
    ("tabs", "version: 1\n\tname: x\n"),
    ("comment-only", "# nothing\n"),
    ("bom", "\ufeffversion: 1\n"),
    ("crlf", "version: 1\r\nname: x\r\n"),
]


def policy_seeds():
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "policy", "*.yaml"))):
        with open(path, "rb") as f:
            out.append(("builtin-" + os.path.basename(path)[:-5], f.read()))
    for name, text in POLICY_HANDMADE:
        out.append((name, text.encode("utf-8", "surrogateescape")))
    return out


# ---------------------------------------------------------------- writing

def pickle_seeds():
    """(name, options byte, pickle bytes) for the decode and roundtrip targets."""
    seeds = []
    for name, data in dumped():
        seeds.append((name, ENC_ASCII, data))
    for name, data in pickletester_constants():
        seeds.append((name, ENC_ASCII, data))
    for name, data in handmade():
        seeds.append(("edge-" + name, ENC_ASCII, data))
    for name, data in py2_str_cases():
        for enc, ename in ((ENC_ASCII, "ascii"), (ENC_LATIN1, "latin1"),
                           (ENC_UTF8, "utf8"), (ENC_BYTES, "bytes")):
            seeds.append(("%s-%s" % (name, ename), enc, data))
            seeds.append(("%s-%s-pyreader" % (name, ename), enc | PYREADER, data))
    for name, data in suite_inputs() + corpus_files():
        seeds.append((name, ENC_ASCII, data))
    # The judge target judges with a built-in profile when bits 3-5 say so
    # (an empty policy otherwise): seed pickles that name globals with each.
    named = [s for s in seeds if s[0].startswith(("corpus-", "edge-global", "edge-inst",
                                                   "edge-newobj", "edge-ext", "edge-persid",
                                                   "edge-binpersid", "edge-joblib"))]
    policy = []
    for i, (name, opt, data) in enumerate(named):
        k = 1 + i % 5
        policy.append(("%s-policy%d" % (name, k), opt | policy_bits(k), data))
    return seeds + policy


def write(dirname, name, data):
    os.makedirs(dirname, exist_ok=True)
    path = os.path.join(dirname, "seed-" + name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def clear_seeds(dirname):
    for path in glob.glob(os.path.join(dirname, "seed-*")):
        os.unlink(path)


def find_helper():
    cands = glob.glob(os.path.join(ROOT, "build*", "fuzz", "pj_fuzz_wire_seeds"))
    cands = [c for c in cands if os.access(c, os.X_OK)]
    return max(cands, key=os.path.getmtime) if cands else None


def main():
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable] + sys.argv,
                  dict(os.environ, PYTHONHASHSEED="0"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wire-helper", help="path of pj_fuzz_wire_seeds")
    args = ap.parse_args()
    if sys.version_info[:2] != (3, 11):
        sys.exit("make_seeds.py: run it with python3.11 (seeds are CPython 3.11's pickles)")

    pick = pickle_seeds()
    names = [n for n, _, _ in pick]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        sys.exit("duplicate seed names: %s" % sorted(dup)[:5])
    grammars = grammar_seeds()
    for target in ("decode", "judge", "roundtrip", "wire", "policy", "container") + tuple(grammars):
        clear_seeds(os.path.join(HERE, target))
    decode_paths = []
    for name, opt, data in pick:
        payload = bytes([opt]) + data
        decode_paths.append(write(os.path.join(HERE, "decode"), name, payload))
        write(os.path.join(HERE, "roundtrip"), name, payload)
        write(os.path.join(HERE, "judge"), name, payload)
    for name, data in policy_seeds():
        write(os.path.join(HERE, "policy"), name, data)
    for name, data in container_seeds():
        write(os.path.join(HERE, "container"), name, data)
    # and the container corpus itself: real files, crafted ones, attacks
    for name, data in container_files():
        if len(data) <= MAX_SEED * 4:
            write(os.path.join(HERE, "container"), "file-" + name, data)
    for target, seeds in grammars.items():
        for name, data in seeds:
            write(os.path.join(HERE, target), name, data)
    # and raw pickles, as files: the sniffer must see them as pickles
    for name, opt, data in pick:
        if opt == ENC_ASCII and name.startswith(("corpus-", "edge-", "p2-", "p4-", "p5-")):
            write(os.path.join(HERE, "container"), "pickle-" + name, data)

    helper = args.wire_helper or find_helper()
    if not helper:
        sys.exit("make_seeds.py: no pj_fuzz_wire_seeds found; build the fuzz targets first "
                 "or pass --wire-helper")
    wire_dir = os.path.join(HERE, "wire")
    os.makedirs(wire_dir, exist_ok=True)
    # The helper names each message after its input file: seed-<name>.
    for k in range(0, len(decode_paths), 200):
        subprocess.run([helper, wire_dir] + decode_paths[k:k + 200], check=True)
    print("seeds: %d pickles (decode, judge, roundtrip, wire), %d policies, %s"
          % (len(pick), len(policy_seeds()),
             ", ".join("%d %s" % (len(v), k) for k, v in grammars.items())))


if __name__ == "__main__":
    main()
