/* PyTorch's legacy format (torch_legacy.c): real torch.save files (every
 * one loaded back by torch.load when make_containers_b.py wrote it) read
 * with their five pickles and storages and no note; the crafted ones raise
 * their notes, and a payload in any of the five pickles is decoded. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "corpus_index.h"

static const char *const legacy_prefixes[] = {"legacy-", "torch-tar-", NULL};
static const char *const profiles[] = {"pytorch", "default", NULL};

/* Which of the five pickles the payload is in. */
static void payload_in(const char *file, int want)
{
    pj_file_result r;
    char path[256];
    snprintf(path, sizeof path, CI_DIR "crafted-b/%s", file);
    if (ci_analyze(path, NULL, &r) == 0) {
        CHECK_MSG(r.n_pickles == 5, "%s: %u pickles", file, r.n_pickles);
        CHECK_MSG(ci_global_in(&r, NULL, "posix", "system") == want, "%s: payload not in %d",
                  file, want);
        CHECK_MSG(r.n_notes == 0 && r.trailing_bytes == 0, "%s: storages not located", file);
    }
    pj_file_result_free(&r);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *b = malloc(1 << 20);
    *n = b ? fread(b, 1, 1 << 20, f) : 0;
    fclose(f);
    return b;
}

/* gzip(data) with zlib: what gzip.open would read back. */
static uint8_t *gzip_of(const uint8_t *data, size_t n, size_t *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    size_t cap = n + 1024;
    uint8_t *b = malloc(cap);
    if (!b || deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(b);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)n;
    z.next_out = b;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(b);
        return NULL;
    }
    return b;
}

/* Inside a wrapper the legacy reader reports trailing bytes as a note (the
 * input's trailing_bytes is about the input itself). */
static void test_nested_trailing(void)
{
    size_t n, gn;
    uint8_t *raw = read_file(CI_DIR "real-b/legacy-linear.pt", &n);
    CHECK(raw != NULL && n > 100 && n + 4 < (1 << 20));
    if (!raw)
        return;
    memcpy(raw + n, "junk", 4);
    uint8_t *gz = gzip_of(raw, n + 4, &gn);
    CHECK(gz != NULL);
    pj_file_result r;
    pj_error err;
    if (gz && pj_analyze_input(gz, gn, NULL, NULL, NULL, &r, &err) == 0) {
        CHECK(r.n_pickles == 5);
        CHECK(ci_find_note(&r, "torch-legacy-trailing", "[gzip]") != NULL);
        pj_file_result_free(&r);
    }
    free(gz);
    free(raw);
}

/* A stream that only starts like a legacy file: a literal magic, then an
 * ordinary pickle: still every pickle, and the missing header noted. */
static void test_short_header(void)
{
    static const uint8_t p[] = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."
                               "\x80\x02N.";
    pj_file_result r;
    pj_error err;
    CHECK(pj_analyze_input(p, sizeof p - 1, NULL, NULL, NULL, &r, &err) == 0);
    CHECK(r.container && !strcmp(r.container, "torch-legacy"));
    CHECK(r.n_pickles == 2 && ci_find_note(&r, "torch-legacy-truncated", NULL));
    pj_file_result_free(&r);
}

/* Regressions (attack review 3): files torch.load 1.13 reads as legacy
 * checkpoints (each loaded by it, returning tensors of uninitialised memory:
 * no storage bytes, an empty storage-keys list) that were not read as
 * legacy: a magic pickle that also builds a joblib wrapper, which switched
 * legacy detection off; a header that is not the literal int (a Decimal
 * magic and the float version, int() calls); a version pickle naming a
 * joblib wrapper.  Each must now raise torch-storage-unread on the reading
 * torch.load does. */
static void test_attacks(void)
{
    static const struct {
        const char *file, *kind, *entry, *also;
    } cases[] = {
        {"legacy-joblib-magic.pt", "joblib", "[torch.load]", "torch-legacy-polyglot"},
        {"legacy-decimal-magic.pt", "torch-legacy", NULL, "torch-legacy-header"},
        {"legacy-computed-version.pt", "torch-legacy", NULL, "torch-legacy-header"},
        {"legacy-joblib-version.pt", "torch-legacy", NULL, "torch-legacy-magic"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, CI_DIR "attacks/%s", cases[i].file);
        pj_file_result r;
        if (ci_analyze(path, NULL, &r) == 0) {
            const char *f = cases[i].file;
            CHECK_MSG(r.container && !strcmp(r.container, cases[i].kind), "%s: kind %s", f,
                      r.container ? r.container : "-");
            const pj_note *n = ci_find_note(&r, "torch-storage-unread", cases[i].entry);
            CHECK_MSG(n && n->severity >= 2, "%s: storage not seen unread", f);
            CHECK_MSG(ci_find_note(&r, cases[i].also, NULL) != NULL, "%s: no %s", f,
                      cases[i].also);
            ci_rejected(f, &r, profiles);
        }
        pj_file_result_free(&r);
    }
}

/* The float version is equal for torch.load's != but no torch.save writes
 * it: noted at severity 2, not taken for a refusal (severity 1). */
static void test_float_version(void)
{
    pj_file_result r;
    if (ci_analyze(CI_DIR "attacks/legacy-decimal-magic.pt", NULL, &r) == 0) {
        const pj_note *n = ci_find_note(&r, "torch-legacy-header", NULL);
        CHECK(n && n->severity == 2 && strstr(n->message, "float"));
    }
    pj_file_result_free(&r);
}

/* A polyglot keeps joblib's reading of the first pickle besides torch's. */
static void test_polyglot_both(void)
{
    pj_file_result r;
    if (ci_analyze(CI_DIR "attacks/legacy-joblib-magic.pt", NULL, &r) == 0) {
        CHECK(r.n_pickles >= 6);
        CHECK(ci_global_in(&r, NULL, "joblib.numpy_pickle", "NumpyArrayWrapper") >= 0);
        CHECK(ci_global_in(&r, "[torch.load]", "joblib.numpy_pickle", "NumpyArrayWrapper") >= 0);
    }
    pj_file_result_free(&r);
}

/* Where torch.load refuses the header, the stream stays a plain pickle
 * stream, unnoted: a Decimal equal to the magic followed by 7, True or
 * 1001.5 ("Invalid protocol version"), a float next to the magic followed
 * by 1001 ("Invalid magic number": int == float is exact).  Each checked
 * against torch.load 1.13. */
static void test_header_refused(void)
{
#define DEC_MAGIC "\x80\x02" "cdecimal\nDecimal\nX\x18\x00\x00\x00" "119547037146038801333356\x85R."
    static const struct {
        const char *p;
        size_t n;
    } cases[] = {
        {DEC_MAGIC "\x80\x02K\x07.", sizeof DEC_MAGIC - 1 + 5},
        {DEC_MAGIC "\x80\x02\x88.", sizeof DEC_MAGIC - 1 + 4},
        {DEC_MAGIC "\x80\x02G@\x8fL\x00\x00\x00\x00\x00.", sizeof DEC_MAGIC - 1 + 12},
        {"\x80\x02GD\xb9P\xa8j \xf9G.\x80\x02M\xe9\x03.", 18},
    };
#undef DEC_MAGIC
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pj_file_result r;
        pj_error err;
        CHECK(pj_analyze_input((const uint8_t *)cases[i].p, cases[i].n, NULL, NULL, NULL, &r,
                               &err) == 0);
        CHECK_MSG(r.container && !strcmp(r.container, "pickle"), "case %zu: %s", i,
                  r.container ? r.container : "-");
        CHECK_MSG(r.n_pickles == 2 && r.n_notes == 0 && r.trailing_bytes == 0, "case %zu", i);
        pj_file_result_free(&r);
    }
}

/* A computed magic and the version, then pickles without a persistent id:
 * torch.load 1.13 returns [1] and reads nothing but these five pickles, all
 * of which the stream reading judges, so whether the Decimal passes for the
 * magic does not matter and the stream stays a plain one (a run of computed
 * pickles, e.g. datetimes, must not be a finding).  The same header before
 * an object pickle with persistent ids is legacy-decimal-magic.pt. */
static void test_computed_header_no_storage(void)
{
    static const char p[] = "\x80\x02" "cdecimal\nDecimal\nX\x18\x00\x00\x00"
                            "119547037146038801333356\x85R."
                            "\x80\x02M\xe9\x03.\x80\x02}.\x80\x02]K\x01" "a.\x80\x02].";
    pj_file_result r;
    pj_error err;
    CHECK(pj_analyze_input((const uint8_t *)p, sizeof p - 1, NULL, NULL, NULL, &r, &err) == 0);
    CHECK(r.container && !strcmp(r.container, "pickle"));
    CHECK(r.n_pickles == 5 && r.n_notes == 0 && r.trailing_bytes == 0);
    pj_file_result_free(&r);
}

int main(void)
{
    CHECK(ci_real(legacy_prefixes) >= 8);
    CHECK(ci_crafted(legacy_prefixes, profiles) >= 9);
    payload_in("legacy-payload-keys.pt", 4);
    payload_in("legacy-payload-sysinfo.pt", 2);
    test_nested_trailing();
    test_short_header();
    test_attacks();
    test_float_version();
    test_polyglot_both();
    test_header_refused();
    test_computed_header_no_storage();
    ci_sweep(CI_DIR "real-b/legacy-linear.pt");
    ci_sweep(CI_DIR "real-b/legacy-p1.pt");
    ci_sweep(CI_DIR "crafted-b/legacy-computed-magic.pt");
    ci_sweep(CI_DIR "attacks/legacy-joblib-magic.pt");
    ci_sweep(CI_DIR "attacks/legacy-joblib-version.pt");
    return CHECK_DONE();
}
