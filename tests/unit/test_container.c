/* pj_analyze_input on the container corpus (corpus/containers, made by
 * make_containers.py with Debian's torch and numpy): real files give no
 * notes and only decodable pickles; each crafted file raises the rule its
 * INDEX line names, on the entry it names, and the malicious pickle inside
 * is decoded wherever some reader would load it.  Then the limits, and a
 * mutation sweep that asserts only "no crash, a result in range". */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "corpus_index.h"
#include "container.h"
#include "input.h"

#define DIR_ "corpus/containers/"

static int analyze(const char *path, const pj_container_limits *cl, pj_file_result *r)
{
    pj_input in;
    pj_error err;
    if (pj_input_from_path(path, UINT64_C(1) << 30, &in, &err)) {
        CHECK_MSG(0, "%s: %s", path, err.message);
        memset(r, 0, sizeof *r);
        return -1;
    }
    int rc = pj_analyze_input(in.data, in.len, NULL, NULL, cl, r, &err);
    CHECK_MSG(rc == 0, "%s: %s", path, err.message);
    pj_input_release(&in);
    return rc;
}

static const pj_note *find_note(const pj_file_result *r, const char *rule, const char *entry)
{
    for (uint32_t i = 0; i < r->n_notes; i++) {
        const pj_note *n = &r->notes[i];
        if (strcmp(n->rule, rule) != 0)
            continue;
        if (!entry || (n->entry && strcmp(n->entry, entry) == 0))
            return n;
    }
    return NULL;
}

static void test_real(void)
{
    DIR *d = opendir(DIR_ "real");
    CHECK(d != NULL);
    if (!d)
        return;
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, DIR_ "real/%s", de->d_name);
        pj_file_result r;
        if (analyze(path, NULL, &r) == 0) {
            files++;
            int script = strncmp(de->d_name, "torchscript", 11) == 0;
            const char *kind = strstr(de->d_name, ".npz") ? (strstr(de->d_name, "empty") ? "zip" : "npz")
                               : strstr(de->d_name, ".npy") ? "npy"
                               : script ? "torchscript-zip" : "torch-zip";
            CHECK_MSG(r.container && strcmp(r.container, kind) == 0, "%s: kind %s", path,
                      r.container ? r.container : "(none)");
            for (uint32_t i = 0; i < r.n_notes; i++)
                CHECK_MSG(r.notes[i].severity == 0 || (script && !strcmp(r.notes[i].rule, "torchscript")),
                          "%s: note %s: %s", path, r.notes[i].rule, r.notes[i].message);
            for (uint32_t i = 0; i < r.n_pickles; i++)
                CHECK_MSG(r.pickles[i].status == 0 || script, "%s: pickle %s failed", path,
                          r.pickles[i].entry ? r.pickles[i].entry : "-");
            if (kind[0] == 't' && !script)
                CHECK_MSG(r.n_pickles == 1 && r.pickles[0].entry &&
                              !strcmp(r.pickles[0].entry, "archive/data.pkl"),
                          "%s: data.pkl only", path);
            if (strstr(de->d_name, "object"))
                CHECK_MSG(find_note(&r, "npy-object-array", NULL) && r.n_pickles == 1,
                          "%s: object array pickle", path);
        }
        pj_file_result_free(&r);
    }
    closedir(d);
    CHECK(files >= 20);
}

/* One INDEX line of dir: file, rule, entry ("-": none). */
static void crafted_one(const char *dir, const char *file, const char *rule, const char *entry)
{
    char path[1024];
    snprintf(path, sizeof path, DIR_ "%s/%s", dir, file);
    pj_file_result r;
    if (analyze(path, NULL, &r))
        return;
    const char *ent = strcmp(entry, "-") ? entry : NULL;
    if (!strcmp(rule, "pickle")) {
        CHECK_MSG(ci_global_in(&r, ent, "posix", "system") >= 0, "%s: no posix.system in %s", file,
                  entry);
    } else if (!strcmp(rule, "-")) {
        CHECK_MSG(r.n_notes == 0, "%s: unexpected note %s", file, r.notes[0].rule);
    } else {
        CHECK_MSG(find_note(&r, rule, ent), "%s: no note %s on %s", file, rule, entry);
    }
    /* every crafted file is rejected: a note of severity >= 1 (or, for the
     * benign zip64 one, nothing to reject but also no surprise) */
    int rejecting = 0;
    for (uint32_t i = 0; i < r.n_notes; i++)
        rejecting |= r.notes[i].severity >= 1;
    if (strcmp(rule, "-") && strcmp(rule, "pickle") && strcmp(rule, "npy-object-array"))
        CHECK_MSG(rejecting, "%s: no rejecting note", file);
    /* zip-case-N: the first pickle is the member torch.load read */
    if (!strncmp(file, "zip-case-", 9))
        CHECK_MSG(r.n_pickles && r.pickles[0].entry && !strcmp(r.pickles[0].entry, entry),
                  "%s: PyTorch reads %s, we took %s first", file, entry,
                  r.n_pickles && r.pickles[0].entry ? r.pickles[0].entry : "-");
    pj_file_result_free(&r);
}

/* crafted/ (make_containers.py) and attacks/ (make_attacks.py): every line
 * of their INDEX, at least min_lines of them. */
static void test_crafted(const char *dir, int min_lines)
{
    char index[256];
    snprintf(index, sizeof index, DIR_ "%s/INDEX", dir);
    FILE *f = fopen(index, "r");
    CHECK_MSG(f != NULL, "%s", index);
    if (!f)
        return;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char *file = strtok(line, "\t\n"), *rule = strtok(NULL, "\t\n"), *entry = strtok(NULL, "\t\n");
        if (!file || !rule || !entry)
            continue;
        crafted_one(dir, file, rule, entry);
        n++;
    }
    fclose(f);
    CHECK_MSG(n >= min_lines, "%s: %d lines", index, n);
}

/* Where a malicious pickle hides, it is decoded and named by its entry. */
static void test_payloads(void)
{
    static const struct {
        const char *file, *entry;
    } cases[] = {
        {"zip-dup-evil-first.pt", "archive/data.pkl"},
        {"zip-dup-evil-last.pt", "archive/data.pkl"},
        {"zip-dup-case.pt", "archive/DATA.PKL"},
        {"zip-hidden-entry.pt", "archive/hidden.pkl"},
        {"zip-encrypted-flag.pt", "archive/data.pkl"},
        {"zip-deflated-pkl.pt", "archive/data.pkl"},
        {"zip-outside-prefix.pt", "other/evil.pkl"},
        {"zip-nested.zip", "inner.pt!archive/data.pkl"},
        {"zip-nested-deep.zip", "mid.zip!inner.pt!archive/data.pkl"},
        {"polyglot-pickle-zip.bin", "archive/data.pkl"},
        {"polyglot-pickle-cat.bin", "archive/data.pkl"},
        {"polyglot-npy-zip.npy", "archive/data.pkl"},
        {"npz-object-evil.npz", "o.npy"},
        {"npy-object-evil.npy", NULL},
        {"npy-dup-descr.npy", NULL},
        {"zip-odd-names.pt", "archive/a\\x5cb\\x01.pkl"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, DIR_ "crafted/%s", cases[i].file);
        pj_file_result r;
        if (analyze(path, NULL, &r) == 0)
            CHECK_MSG(ci_global_in(&r, cases[i].entry, "posix", "system") >= 0, "%s: payload in %s",
                      cases[i].file, cases[i].entry ? cases[i].entry : "-");
        pj_file_result_free(&r);
    }
}

static void test_limits(void)
{
    pj_container_limits cl = pj_container_limits_default();
    pj_file_result r;
    pj_error err;
    const char *bad = NULL;
    CHECK(pj_container_limits_check(&cl, &bad) == 0);
    cl.depth = 0;
    CHECK(pj_container_limits_check(&cl, &bad) != 0 && !strcmp(bad, "depth"));
    CHECK(pj_analyze_input((const uint8_t *)"N.", 2, NULL, NULL, &cl, &r, &err) == PJ_E_ARG);
    pj_file_result_free(&r);
    cl = pj_container_limits_default();
    cl.ratio = PJ_CCEILING_RATIO + 1;
    CHECK(pj_container_limits_check(&cl, &bad) != 0 && !strcmp(bad, "ratio"));

    static const struct {
        const char *file;
        size_t field;
        uint64_t value;
    } cases[] = {
        {"real/torch-linear-f32.pt", offsetof(pj_container_limits, entries), 3},
        {"crafted/zip-deflated-pkl.pt", offsetof(pj_container_limits, entry_bytes), 16},
        {"crafted/zip-deflated-pkl.pt", offsetof(pj_container_limits, total_bytes), 16},
        {"real/np-compressed.npz", offsetof(pj_container_limits, ratio), 2},
        {"real/np-f64.npy", offsetof(pj_container_limits, npy_header), 16},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cl = pj_container_limits_default();
        *(uint64_t *)((char *)&cl + cases[i].field) = cases[i].value;
        char path[512];
        snprintf(path, sizeof path, DIR_ "%s", cases[i].file);
        if (analyze(path, &cl, &r) == 0)
            CHECK_MSG(find_note(&r, "limit-exceeded", NULL), "%s: no limit-exceeded", path);
        pj_file_result_free(&r);
    }
    /* nesting: the inner archive sits at depth 1 */
    cl = pj_container_limits_default();
    cl.depth = 1;
    if (analyze(DIR_ "crafted/zip-nested.zip", &cl, &r) == 0)
        CHECK(!find_note(&r, "limit-exceeded", NULL) && r.n_pickles == 1);
    pj_file_result_free(&r);
    /* the note cap keeps the first notes; the last kept one becomes a
     * rejecting limit-exceeded note that says how many were dropped */
    cl = pj_container_limits_default();
    cl.notes = 2;
    if (analyze(DIR_ "crafted/zip-case-0.pt", &cl, &r) == 0)
        CHECK(r.n_notes == 2 && !strcmp(r.notes[1].rule, "limit-exceeded") &&
              r.notes[1].severity >= 2 && strstr(r.notes[1].message, "were not kept"));
    pj_file_result_free(&r);
    /* an informational note first, the rejecting one dropped: still rejected */
    cl = pj_container_limits_default();
    cl.notes = 1;
    if (analyze(DIR_ "attacks/npz-object-then-bad-header.npz", &cl, &r) == 0)
        CHECK(r.n_notes == 1 && !strcmp(r.notes[0].rule, "limit-exceeded") &&
              r.notes[0].severity >= 2);
    pj_file_result_free(&r);
}

static void test_sniff(void)
{
    CHECK(pj_sniff((const uint8_t *)"PK\3\4", 4) == PJ_SNIFF_ZIP);
    CHECK(pj_sniff((const uint8_t *)"PK\5\6", 4) == PJ_SNIFF_ZIP);
    CHECK(pj_sniff((const uint8_t *)"PK\1\2", 4) == PJ_SNIFF_PICKLE);
    CHECK(pj_sniff((const uint8_t *)"\x93NUMPY", 6) == PJ_SNIFF_NPY);
    /* torch.load tries tarfile on anything but PK\3\4: 512 NUL bytes are an
     * empty tar, whatever a later reader would make of the file */
    {
        uint8_t blk[512] = {0};
        CHECK(pj_sniff(blk, sizeof blk) == PJ_SNIFF_TAR);
        memcpy(blk, "PK\3\4", 4);
        CHECK(pj_sniff(blk, sizeof blk) == PJ_SNIFF_ZIP);
    }
    CHECK(pj_sniff((const uint8_t *)"\x1f\x8b", 2) == PJ_SNIFF_GZIP);
    CHECK(pj_sniff((const uint8_t *)"BZh9", 4) == PJ_SNIFF_BZIP2);
    CHECK(pj_sniff((const uint8_t *)"\xfd" "7zXZ\0", 6) == PJ_SNIFF_XZ);
    CHECK(pj_sniff((const uint8_t *)"7z\xbc\xaf\x27\x1c", 6) == PJ_SNIFF_7Z);
    CHECK(pj_sniff((const uint8_t *)"\x5d\x00\x00", 3) == PJ_SNIFF_LZMA);
    CHECK(pj_sniff((const uint8_t *)"\x78\x9c", 2) == PJ_SNIFF_ZLIB);
    CHECK(pj_sniff((const uint8_t *)"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.",
                   15) == PJ_SNIFF_TORCH_LEGACY);
    CHECK(pj_sniff((const uint8_t *)"(lp0\n.", 6) == PJ_SNIFF_PICKLE);
    CHECK(pj_sniff((const uint8_t *)"", 0) == PJ_SNIFF_PICKLE);
    CHECK(pj_sniff_pickle_start((const uint8_t *)"\x80\x05", 2));
    CHECK(!pj_sniff_pickle_start((const uint8_t *)"\x80\x06", 2));
    CHECK(pj_sniff_pickle_start((const uint8_t *)"c", 1));
    CHECK(!pj_sniff_pickle_start((const uint8_t *)"3\n", 2));
}


int main(void)
{
    test_sniff();
    test_real();
    test_crafted("crafted", 40);
    test_crafted("attacks", 18);
    test_payloads();
    test_limits();
    ci_sweep(DIR_ "real/torch-linear-f32.pt");
    ci_sweep(DIR_ "real/np-object.npz");
    ci_sweep(DIR_ "real/np-structured.npy");
    ci_sweep(DIR_ "crafted/zip-zip64-extra.pt");
    ci_sweep(DIR_ "crafted/zip-nested.zip");
    ci_sweep(DIR_ "crafted/zip-nested-deep.zip");
    return CHECK_DONE();
}
