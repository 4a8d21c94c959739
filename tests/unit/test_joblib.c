/* joblib files (joblib.c, joblib_dtype.c): numpy dtypes evaluated as numpy
 * rebuilds them (the table's expectations come from numpy itself, by
 * make_containers_b.py), real joblib.dump files read with no note, every
 * crafted array-length lie rejected with its note, and the wrapper class
 * recognised under each name find_class resolves. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "corpus_index.h"
#include "joblib.h"

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    size_t len = strlen(s);
    if (len % 2 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    *n = len / 2;
    return 0;
}

/* Each dtype pickle: what numpy made of it (itemsize, hasobject) is what we
 * compute; a state that lies about objects is caught; forms numpy never
 * writes are refused. */
static void test_dtypes(void)
{
    FILE *f = fopen(CI_DIR "crafted-b/DTYPES", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    static char line[8192];
    static uint8_t buf[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char *hex = strtok(line, "\t\n"), *size = strtok(NULL, "\t\n"),
             *obj = strtok(NULL, "\t\n"), *expect = strtok(NULL, "\t\n");
        size_t len;
        if (!hex || !size || !obj || !expect || unhex(hex, buf, sizeof buf, &len)) {
            CHECK_MSG(0, "DTYPES line %d", n);
            continue;
        }
        n++;
        pj_graph *g = NULL;
        size_t end;
        pj_error err;
        int rc = pj_decode(buf, len, 0, NULL, NULL, &g, &end, &err);
        CHECK_MSG(rc == 0, "dtype %d: %s", n, err.message);
        if (rc == 0) {
            pj_np_dtype dt;
            const char *why = pj_np_dtype_eval(g, NULL, g->root, &dt);
            if (!strcmp(expect, "refused")) {
                CHECK_MSG(why != NULL, "dtype %d accepted", n);
            } else {
                CHECK_MSG(why == NULL, "dtype %d refused: %s", n, why);
                if (!why) {
                    CHECK_MSG(dt.itemsize == atoll(size) && dt.hasobject == atoi(obj),
                              "dtype %d: itemsize %lld hasobject %d, numpy %s %s", n,
                              (long long)dt.itemsize, dt.hasobject, size, obj);
                    int lie = dt.holds_objects && !dt.hasobject;
                    CHECK_MSG(lie == !strcmp(expect, "lie"), "dtype %d: lie %d", n, lie);
                    CHECK_MSG((dt.odd != NULL) == !strcmp(expect, "odd"), "dtype %d: odd %s", n,
                              dt.odd ? dt.odd : "-");
                }
            }
        }
        pj_graph_free(g);
    }
    fclose(f);
    CHECK(n >= 30);
}

/* The class of a GLOBAL, by the path find_class walks. */
static void test_classify(void)
{
    static const struct {
        const char *pickle;
        pj_joblib_class want;
    } cases[] = {
        {"\x80\x02" "cjoblib.numpy_pickle\nNumpyArrayWrapper\n.", PJ_JOBLIB_NUMPY},
        {"\x80\x02" "cjoblib.numpy_pickle\nNDArrayWrapper\n.", PJ_JOBLIB_ND},
        {"\x80\x02" "cjoblib.numpy_pickle_compat\nZNDArrayWrapper\n.", PJ_JOBLIB_ND},
        /* protocol 4 walks a dotted name from the module */
        {"\x80\x04\x8c\x06joblib\x8c\x1enumpy_pickle.NumpyArrayWrapper\x93.", PJ_JOBLIB_NUMPY},
        /* below protocol 4 a dotted name is one attribute: no such class */
        {"\x80\x02" "cjoblib\nnumpy_pickle.NumpyArrayWrapper\n.", PJ_JOBLIB_NONE},
        {"\x80\x02" "csklearn.externals.joblib.numpy_pickle\nNumpyArrayWrapper\n.",
         PJ_JOBLIB_AMBIGUOUS},
        {"\x80\x02" "cmylib\nNumpyArrayWrapper\n.", PJ_JOBLIB_NONE},
        {"\x80\x02" "cjoblib.numpy_pickle\nNumpyUnpickler\n.", PJ_JOBLIB_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *p = (const uint8_t *)cases[i].pickle;
        pj_graph *g = NULL;
        size_t end;
        pj_error err;
        int rc = pj_decode(p, strlen(cases[i].pickle), 0, NULL, NULL, &g, &end, &err);
        CHECK_MSG(rc == 0, "case %zu: %s", i, err.message);
        if (rc == 0) {
            CHECK_MSG(pj_joblib_classify_global(g, g->root) == cases[i].want, "case %zu", i);
            CHECK(pj_joblib_graph_has_wrapper(g) == (cases[i].want != PJ_JOBLIB_NONE));
        }
        pj_graph_free(g);
    }
}

/* A plain pickle naming no wrapper is read once, exactly as before. */
static void test_plain_unchanged(void)
{
    static const uint8_t p[] = "\x80\x02}q\x00X\x01\x00\x00\x00" "aK\x01s.";
    pj_file_result r;
    pj_error err;
    CHECK(pj_analyze_input(p, sizeof p - 1, NULL, NULL, NULL, &r, &err) == 0);
    CHECK(r.n_pickles == 1 && r.pickles[0].status == 0 && r.n_notes == 0);
    CHECK(r.container && !strcmp(r.container, "pickle"));
    pj_file_result_free(&r);
}

/* Pieces of wrapper pickles (protocol 2): a NumpyArrayWrapper made by
 * NEWOBJ, the items of a state dict joblib writes (but the shape), an f8
 * dtype, 8 bytes of array data, and a call to posix.system. */
#define WRAPPER "\x80\x02" "cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81"
#define F8 "cnumpy\ndtype\nX\x02\x00\x00\x00" "f8\x89\x88\x87R(K\x03X\x01\x00\x00\x00" \
           "<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
#define ITEMS "X\x08\x00\x00\x00subclasscnumpy\nndarray\nX\x05\x00\x00\x00orderX\x01\x00" \
              "\x00\x00" "CX\x05\x00\x00\x00" "dtype" F8
#define SHAPE1 "X\x05\x00\x00\x00shapeK\x01\x85"
#define DATA8 "\0\0\0\0\0\0\0\0"
#define CALL "cposix\nsystem\n(X\x21\x00\x00\x00touch /tmp/picklejail-test-joblib" "tR."

/* Wrappers whose data joblib reads otherwise than their states alone say:
 * each is refused (joblib-array-invalid).  What joblib does with each was
 * seen with Debian's joblib 1.2 (the call ran in every one). */
#define CASE(what, lit) {what, lit, sizeof lit - 1}
static const struct {
    const char *what, *p;
    size_t n;
} refused[] = {
    /* the class comes from a list that a SETITEM changes after the call:
     * joblib built a wrapper and reads its 8 bytes */
    CASE("copyreg list", "\x80\x02" "ccopyreg\n_reconstructor\n(cjoblib.numpy_pickle\nNumpyArrayWrapper"
     "\nc__builtin__\nobject\nNlq\x01Rh\x01K\x00" "c__builtin__\nobject\ns0}(" SHAPE1 ITEMS "ub"
     DATA8 "0" CALL),
    /* an attribute `read` shadows the method: joblib calls id(unpickler)
     * and reads no data, the bytes after BUILD are opcodes */
    CASE("method shadowed",
         WRAPPER "}(" SHAPE1 ITEMS "X\x04\x00\x00\x00readc__builtin__\nid\nub0" CALL),
    /* alignment os.altsep, None on Linux: joblib reads no padding byte */
    CASE("alignment None", WRAPPER "}(" SHAPE1 ITEMS "X\x1b\x00\x00\x00numpy_array_alignment_bytes"
     "cos\naltsep\nub" DATA8 "0" CALL),
    /* the constructor called with a list, which can change after the call */
    CASE("constructor list", "\x80\x02" "cjoblib.numpy_pickle\nNumpyArrayWrapper\n(cnumpy\n"
         "ndarray\nK\x01\x85X\x01\x00\x00\x00" "C" F8 "lR}b\x01\xff" DATA8 "0" CALL),
};

#undef CASE

static void test_refused(void)
{
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        pj_file_result r;
        pj_error err;
        CHECK(pj_analyze_input((const uint8_t *)refused[i].p, refused[i].n, NULL, NULL, NULL, &r,
                               &err) == 0);
        CHECK_MSG(ci_find_note(&r, "joblib-array-invalid", NULL) != NULL, "%s: not refused",
                  refused[i].what);
        CHECK_MSG(r.n_pickles >= 1 && r.pickles[0].status != 0, "%s: decoded", refused[i].what);
        pj_file_result_free(&r);
    }
}

/* Regression (fuzz_container, heap overflow in instance_class): a wrapper
 * made by copyreg._reconstructor called with a list, which pickle.py
 * accepts (func(*args)).  A SETITEM could change the list's class after the
 * call, so the class is not known: refused at the BUILD, with nothing read
 * past the input. */
static void test_list_args(void)
{
    static const char p[] =
        "ccopy_reg\n_reconstructor\n(cjoblib.numpy_pickle\nNumpyArrayWrapper\n"
        "c__builtin__\nobject\nNlR(dVshape\n(I1\ntsVdtype\ncnumpy\ndtype\n(Vf8\nI00\nI01\n"
        "tRsb\x08" "AAAAAAAA.";
    pj_file_result r;
    pj_error err;
    CHECK(pj_analyze_input((const uint8_t *)p, sizeof p - 1, NULL, NULL, NULL, &r, &err) == 0);
    CHECK(r.container && !strcmp(r.container, "joblib"));
    CHECK(r.n_pickles >= 1 && r.pickles[0].status != 0 &&
          r.pickles[0].error.offset == sizeof p - 1 - 11);
    CHECK(ci_find_note(&r, "joblib-array-invalid", NULL) != NULL);
    pj_file_result_free(&r);
}

/* Regression (attack review, j1): a wrapper built twice.  Its first BUILD
 * copies shape (100,) from a memoised state dict into the instance, then
 * the pickle sets that dict's shape to (1,) and builds the wrapper again
 * with {}.  joblib still reads 800 bytes at the second BUILD and runs
 * posix.system after them; replaying the first BUILD with the dict as it
 * ended up read 8 and saw a BINBYTES over the call.  The joblib reading
 * must reach STOP with the call in it. */
static void test_build_twice(void)
{
    pj_file_result r;
    if (ci_analyze(CI_DIR "attacks/joblib-build-twice.pkl", NULL, &r) == 0) {
        CHECK(r.n_pickles >= 1 && r.pickles[0].status == 0);
        CHECK(ci_global_in(&r, NULL, "posix", "system") == 0);
    }
    pj_file_result_free(&r);
}

/* A list as shape, changed by a SETITEM between two BUILDs: the attribute
 * is the list itself, so joblib reads 16 bytes at the first BUILD and 8 at
 * the second (seen with joblib 1.2), then the call. */
static void test_list_shape(void)
{
    static const char p[] =
        WRAPPER "q\x00}(X\x05\x00\x00\x00shape]q\x01K\x02" "a" ITEMS "ub" DATA8 DATA8
        "0h\x01K\x00K\x01s0h\x00}b" DATA8 "0" CALL;
    pj_file_result r;
    pj_error err;
    CHECK(pj_analyze_input((const uint8_t *)p, sizeof p - 1, NULL, NULL, NULL, &r, &err) == 0);
    CHECK(r.n_pickles >= 1 && r.pickles[0].status == 0 && r.pickles[0].length == sizeof p - 1);
    CHECK(ci_global_in(&r, NULL, "posix", "system") == 0);
    CHECK(ci_find_note(&r, "joblib-array-invalid", NULL) == NULL);
    pj_file_result_free(&r);
}

static const char *const joblib_prefixes[] = {"joblib-", NULL};
static const char *const profiles[] = {"sklearn", "numpy", "default", NULL};

int main(void)
{
    test_dtypes();
    test_classify();
    test_plain_unchanged();
    test_list_args();
    test_refused();
    test_build_twice();
    test_list_shape();
    CHECK(ci_real(joblib_prefixes) >= 15);
    CHECK(ci_crafted(joblib_prefixes, profiles) >= 17);
    /* the object arrays of a real dump are their own pickles, named */
    pj_file_result r;
    if (ci_analyze(CI_DIR "real-b/joblib-onehot.joblib", NULL, &r) == 0)
        CHECK(r.n_pickles == 3 && r.pickles[1].entry &&
              !strcmp(r.pickles[1].entry, "[joblib-array-0]"));
    pj_file_result_free(&r);
    /* joblib's reading keeps both views of a polyglot, the payload in the
     * pickle.load one only */
    if (ci_analyze(CI_DIR "crafted-b/joblib-polyglot.joblib", NULL, &r) == 0)
        CHECK(ci_global_in(&r, NULL, "posix", "system") == 1 && r.n_pickles == 2);
    pj_file_result_free(&r);
    ci_sweep(CI_DIR "real-b/joblib-arrays-p2.joblib");
    ci_sweep(CI_DIR "crafted-b/joblib-object-evil.joblib");
    ci_sweep(CI_DIR "crafted-b/joblib-ctor-args.joblib");
    return CHECK_DONE();
}
