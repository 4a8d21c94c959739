/* Deciding what an input is from its first bytes, as the loaders do.
 *
 * torch.load takes the zip path only when the file starts with "PK\3\4"
 * (serialization._is_zipfile), np.load when it starts with "PK\3\4" or
 * "PK\5\6", and takes "\x93NUMPY" as .npy; joblib recognises its compressed
 * wrappers by their prefixes.  Everything else reaches pickle.load (np.load
 * with allow_pickle falls back to it, torch.load's legacy path starts with
 * it), so anything unrecognised is read as a pickle: a pickle that fails at
 * byte 0 is still a finding.  The file name is never consulted: an attacker
 * chooses it. */
#include <string.h>

#include "container.h"
#include "opcodes.h"

static int starts(const uint8_t *buf, size_t len, const char *magic, size_t n)
{
    return len >= n && memcmp(buf, magic, n) == 0;
}

/* PyTorch's legacy format opens with pickle.dump(MAGIC_NUMBER) where
 * MAGIC_NUMBER = 0x1950a86a20f9469cfc6c: PROTO 2, LONG1 of 10 bytes, STOP.
 * Only that plain form is recognised here; a computed magic number is a plain
 * pickle to us, which the legacy reader reports. */
static int torch_legacy(const uint8_t *buf, size_t len)
{
    static const uint8_t magic[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                    0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
    if (len < 2 + sizeof magic || buf[0] != 0x80 || buf[1] < 2 || buf[1] > 5)
        return 0;
    return memcmp(buf + 2, magic, sizeof magic) == 0;
}

/* ---- tar, as tarfile.open(mode="r:") takes it ---------------------------
 * torch.load's legacy path opens any non-zip file it can seek with
 * tarfile first and, if that works, loads PyTorch's oldest format from it.
 * tarfile does not look for "ustar": the first 512-byte block is a header
 * when its checksum field equals the byte sum of the block (unsigned or
 * signed, the field counted as spaces), and 512 NUL bytes open as an empty
 * archive.  The field is base-256 when it starts with 0x80/0xff, else text
 * cut at its first NUL, stripped, and parsed by int(s, 8). */

static int py_space(uint8_t b)
{
    return b == ' ' || (b >= 0x09 && b <= 0x0d) || (b >= 0x1c && b <= 0x1f);
}

/* int(s, 8) on s[0..n) (already cut at NUL, ASCII): 0 and *v, or -1. */
static int py_octal(const uint8_t *s, size_t n, int64_t *v)
{
    while (n && py_space(*s))
        s++, n--;
    while (n && py_space(s[n - 1]))
        n--;
    if (n == 0) { /* s.strip() or "0" */
        *v = 0;
        return 0;
    }
    int neg = 0;
    if (*s == '+' || *s == '-')
        neg = *s == '-', s++, n--;
    int after_prefix = 0;
    if (n >= 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
        s += 2, n -= 2, after_prefix = 1;
    int64_t x = 0;
    int digits = 0, last_us = after_prefix; /* "0o_7" is fine, "_7" is not */
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (last_us == 2 || (!digits && !after_prefix))
                return -1;
            last_us = 2;
            continue;
        }
        if (s[i] < '0' || s[i] > '7')
            return -1;
        if (x > (INT64_MAX >> 3))
            return -1; /* far beyond any checksum */
        x = x * 8 + (s[i] - '0');
        digits = 1;
        last_us = 0;
    }
    if (!digits || last_us == 2)
        return -1;
    *v = neg ? -x : x;
    return 0;
}

static int tar_field(const uint8_t *f, int64_t *v)
{
    if (f[0] == 0x80 || f[0] == 0xff) {
        int64_t x = 0;
        for (int i = 1; i < 8; i++)
            x = x << 8 | f[i];
        *v = f[0] == 0xff ? x - (INT64_C(1) << 56) : x;
        return 0;
    }
    size_t n = 0;
    while (n < 8 && f[n])
        n++;
    for (size_t i = 0; i < n; i++)
        if (f[i] >= 0x80)
            return -1; /* nts(..., "ascii", "strict") */
    return py_octal(f, n, v);
}

static int tar(const uint8_t *buf, size_t len)
{
    if (len < 512)
        return 0;
    int64_t u = 256, sg = 256, want;
    int all_nul = 1;
    for (size_t i = 0; i < 512; i++) {
        all_nul &= buf[i] == 0;
        if (i >= 148 && i < 156)
            continue;
        u += buf[i];
        sg += (int8_t)buf[i];
    }
    if (all_nul)
        return 1;
    return tar_field(buf + 148, &want) == 0 && (want == u || want == sg);
}

pj_sniff_kind pj_sniff(const uint8_t *buf, size_t len)
{
    /* torch.load takes only "PK\3\4" for a zip; anything else goes to its
     * legacy reader, which tries tarfile first: an .npy or empty .npz
     * whose first 512 bytes pass tarfile's checksum is a tar to torch */
    if (starts(buf, len, "PK\3\4", 4))
        return PJ_SNIFF_ZIP;
    if (tar(buf, len))
        return PJ_SNIFF_TAR;
    if (starts(buf, len, "PK\5\6", 4))
        return PJ_SNIFF_ZIP;
    if (starts(buf, len, "\x93NUMPY", 6))
        return PJ_SNIFF_NPY;
    if (starts(buf, len, "PYTORCH1", 8))
        return PJ_SNIFF_TORCH_PREVIEW;
    if (torch_legacy(buf, len))
        return PJ_SNIFF_TORCH_LEGACY;
    if (starts(buf, len, "7z\xbc\xaf\x27\x1c", 6))
        return PJ_SNIFF_7Z;
    /* joblib's _detect_compressor: "ZF" first, then its compressors' prefixes;
     * bz2 is "BZ" to joblib, but only "BZh" starts a stream bz2 reads */
    if (starts(buf, len, "ZF", 2) || starts(buf, len, "\x78", 1))
        return PJ_SNIFF_ZLIB;
    if (starts(buf, len, "\x1f\x8b", 2))
        return PJ_SNIFF_GZIP;
    if (starts(buf, len, "BZh", 3))
        return PJ_SNIFF_BZIP2;
    if (starts(buf, len, "\x5d\x00", 2))
        return PJ_SNIFF_LZMA;
    if (starts(buf, len, "\xfd" "7zXZ", 5))
        return PJ_SNIFF_XZ;
    if (starts(buf, len, "\x04\x22\x4d\x18", 4))
        return PJ_SNIFF_LZ4;
    return PJ_SNIFF_PICKLE;
}

const char *pj_sniff_name(pj_sniff_kind k)
{
    static const char *const names[PJ_SNIFF_COUNT_] = {
        [PJ_SNIFF_PICKLE] = "pickle",   [PJ_SNIFF_ZIP] = "zip",
        [PJ_SNIFF_NPY] = "npy",         [PJ_SNIFF_TORCH_LEGACY] = "torch-legacy",
        [PJ_SNIFF_TORCH_PREVIEW] = "torch-preview",
        [PJ_SNIFF_GZIP] = "gzip",       [PJ_SNIFF_BZIP2] = "bzip2",
        [PJ_SNIFF_XZ] = "xz",           [PJ_SNIFF_LZMA] = "lzma",
        [PJ_SNIFF_ZLIB] = "zlib",       [PJ_SNIFF_LZ4] = "lz4",
        [PJ_SNIFF_TAR] = "tar",         [PJ_SNIFF_7Z] = "7z",
        [PJ_SNIFF_JOBLIB_COMPAT] = "joblib-compat",
    };
    if ((unsigned)k >= PJ_SNIFF_COUNT_ || !names[k])
        return "unknown";
    return names[k];
}

int pj_sniff_pickle_start(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (buf[0] == PJ_OPC_PROTO)
        return len >= 2 && buf[1] <= PJ_HIGHEST_PROTOCOL;
    /* The C unpickler accepts any opcode without a PROTO first. */
    return pj_opcode_name(buf[0]) != NULL;
}
