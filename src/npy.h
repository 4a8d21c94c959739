/* numpy's .npy format, read as numpy.lib.format.read_array reads it: magic
 * "\x93NUMPY", version (1,0), (2,0) or (3,0), a little-endian header length
 * (2 bytes for 1.0, 4 for the others), then a Python dict literal with keys
 * 'descr', 'fortran_order', 'shape'.  numpy evaluates that literal with
 * ast.literal_eval; we parse a strict subset of the same grammar by hand and
 * evaluate nothing.  What falls outside the subset is rejected with a note,
 * never guessed at.
 *
 * An array whose dtype holds objects ('O', or a structured dtype with an 'O'
 * field) is stored as a pickle after the header: it is decoded.  Any other
 * array is raw bytes: allowed by its header alone, once its length is checked
 * against shape × itemsize. */
#ifndef PJ_NPY_H
#define PJ_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "container.h"

typedef struct pj_npy_info {
    uint8_t major, minor;
    uint64_t header;   /* offset of the header literal */
    uint64_t data;     /* offset of the array data: end of the header */
    int has_object;    /* the dtype holds Python objects: data is a pickle */
    int fortran;
    uint64_t itemsize;
    uint64_t count;    /* elements: the product of the shape */
    int overflow;      /* count × itemsize does not fit 64 bits */
} pj_npy_info;

/* Magic, version and header length: 0 with info->header and info->data set,
 * or -1 with *why.  Needs the first 12 bytes (10 for version 1.0). */
int pj_npy_prefix(const uint8_t *buf, size_t len, pj_npy_info *info, const char **why);

/* Parse the header literal buf[info->header, info->data) (len must reach
 * info->data): 0 with the rest of info filled, -1 with a reason in why, or
 * -2 when out of memory. */
int pj_npy_parse_header(const uint8_t *buf, size_t len, pj_npy_info *info, char *why,
                        size_t whylen);

/* Returned by pj_npy_read when an object array's pickle is needed and buf
 * does not hold the whole file: call again with all of it. */
#define PJ_NPY_NEED_ALL 1

/* Read one .npy file: buf holds at least its header (all of it when whole);
 * total is the file's full length.  Adds notes (entry names it) and the
 * pickle of an object array.  0, PJ_NPY_NEED_ALL, or PJ_E_NOMEM/PJ_E_LIMIT. */
int pj_npy_read(pj_container_ctx *c, const uint8_t *buf, size_t len, uint64_t total,
                const char *entry, int whole, pj_error *err);

#endif
