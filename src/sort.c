/* Heapsort (see sort.h for why not qsort). */
#include "sort.h"

static void swap_bytes(unsigned char *x, unsigned char *y, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        unsigned char c = x[i];
        x[i] = y[i];
        y[i] = c;
    }
}

void pj_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    unsigned char *b = base;
    for (size_t end = n, start = n / 2; end > 1;) {
        if (start > 0)
            start--;
        else
            swap_bytes(b, b + --end * size, size);
        for (size_t root = start, c; (c = 2 * root + 1) < end; root = c) {
            if (c + 1 < end && cmp(b + c * size, b + (c + 1) * size) < 0)
                c++;
            if (cmp(b + root * size, b + c * size) >= 0)
                break;
            swap_bytes(b + root * size, b + c * size, size);
        }
    }
}
