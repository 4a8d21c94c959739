/* An in-place sort for code that runs in the sandboxed child.
 *
 * glibc's qsort asks the kernel for the machine's memory size (sysinfo)
 * before it sorts more than 1 KiB, and the child's seccomp filter kills
 * the process for that call: a benign archive of a few dozen members died
 * as a "sandbox-violation".  pj_sort is a heapsort: no allocation, no
 * system call, O(n log n) whatever the input, not stable. */
#ifndef PJ_SORT_H
#define PJ_SORT_H

#include <stddef.h>

void pj_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
