// pe.c: the PE registry built from pe_list.h, and the helpers kernels share for infer.
#include "pe.h"

#include <stdio.h>
#include <string.h>

#define PE(kind) &pe_kind_##kind,
static const pe_kind *const registry[] = {
#include "pe_list.h"
    NULL,
};
#undef PE

int pe_kind_count(void) {
    return (int)(sizeof registry / sizeof registry[0]) - 1;
}

const pe_kind *pe_kind_at(int i) {
    return i >= 0 && i < pe_kind_count() ? registry[i] : NULL;
}

const pe_kind *pe_kind_lookup(const char *name) {
    for (int i = 0; i < pe_kind_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int pe_param_count(const pe_kind *k) {
    int n = 0;
    while (k->params && k->params[n].name)
        n++;
    return n;
}

pg_status pe_fail(pe_check *ck, pg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ck->message, sizeof ck->message, fmt, ap);
    va_end(ap);
    ck->status = st;
    return st;
}
