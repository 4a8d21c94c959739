/* PyTorch's legacy format (torch.save(..., _use_new_zipfile_serialization=
 * False), and every torch.save before 1.6): five pickles one after another —
 * the magic number 0x1950a86a20f9469cfc6c, the protocol version 1001, a
 * sys-info dict, the object itself (tensors as persistent ids naming their
 * storages), the sorted list of storage keys — then, for each key in that
 * list's order, the storage's raw data: an 8-byte little-endian element count
 * and count x element-size bytes (torch/serialization.py _legacy_save and
 * _legacy_load, torch 1.13; checked against files torch writes and loads).
 *
 * torch.load decides nothing by content here: any file that is not a zip
 * (nor a tar) goes this way, read by pickle.load whatever its pickles name,
 * and its first two pickles only have to compare equal (!=) to the magic and
 * the version.  So a value computed by a call is as good to torch as a
 * literal one, and so is the float 1001.0 for the version: wherever torch
 * could read on, the file is read as legacy, and the odd header is a
 * finding.  A first pickle that joblib.load reads otherwise (it names a
 * joblib wrapper) gets both readings.  Every pickle is decoded and judged;
 * the storages are located from the keys and the persistent ids, with
 * overflow checks, and skipped without being read; bytes after them are
 * trailing data. */
#ifndef PJ_TORCH_LEGACY_H
#define PJ_TORCH_LEGACY_H

#include <stddef.h>
#include <stdint.h>

#include "container.h"

/* Would torch.load read on past the header of a stream whose first n (1 or
 * 2) pickles, as pickle.load reads them, are the results idx?  torch.load
 * only tests `value != constant`, so any value made by a call may pass, and
 * so may the float 1001.0 for the version.  1: yes, the first is the magic
 * literal; 2: maybe, the first is computed and the second may equal the
 * version (pj_torch_legacy_maybe decides); 0: no, it refuses the file
 * there; -1: the second pickle decides. */
int pj_torch_legacy_detect(const pj_file_result *out, const uint32_t *idx, uint32_t n);

/* The header (idx: two pickles read as pickle.load reads them, ending at
 * pos) has a computed magic: whether torch.load takes it cannot be told.
 * Its reading differs from the stream reader's only when the object
 * pickle holds persistent ids (storages, filled from raw bytes) or the
 * sys-info or object pickle names a joblib wrapper (the stream reader reads
 * it otherwise, and so starts the next pickle elsewhere).  Then read the
 * file as legacy (*taken = 1; its header notes say why); else the stream
 * reader decodes and judges every pickle torch.load would run.  0, or
 * PJ_E_NOMEM / PJ_E_LIMIT. */
int pj_torch_legacy_maybe(pj_container_ctx *c, const pj_container_item *it, int top,
                          size_t pos, const uint32_t *idx, int *taken, pj_error *err);

/* The stream reader read header pickle n+1 (n = 0 or 1; idx: the first's
 * result when n is 1), starting at pos, as joblib.load does; torch.load
 * reads it as pickle.load does.  Decode the header that way from pos and,
 * when torch.load could take the stream for a legacy file, read it as one:
 * for n = 0 as a second reading of the stream (entry "<name>![torch.load]",
 * note torch-legacy-polyglot: joblib.load reads that first pickle too,
 * otherwise), for n = 1 as the stream's own reading (*taken is then 1 and
 * the stream is read).  0, or PJ_E_NOMEM / PJ_E_LIMIT. */
int pj_torch_legacy_plain(pj_container_ctx *c, const pj_container_item *it, int top, size_t pos,
                          const uint32_t *idx, uint32_t n, int *taken, pj_error *err);

/* Read the rest of a legacy file whose first n pickles (idx) were decoded and
 * end at pos: the remaining header pickles, then the storages.  top: it is
 * the input itself (trailing bytes go to out->trailing_bytes, else a note).
 * where: the entry of its pickles and notes.  0, or PJ_E_NOMEM / PJ_E_LIMIT. */
int pj_torch_legacy_read(pj_container_ctx *c, const pj_container_item *it, int top,
                         const char *where, size_t pos, const uint32_t *idx, uint32_t n,
                         pj_error *err);

#endif
