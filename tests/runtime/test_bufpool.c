// test_bufpool.c: the pool of rendered buffers: page-aligned blocks that never overlap,
// first fit from the lowest address, freed neighbours merged into one extent, a full pool
// says so (NULL, so the caller uses malloc), and two threads allocating and freeing at once
// never get a block the other one holds.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bufpool.h"
#include "check.h"

enum {
    PAGE = 4096
};

static void test_blocks(void) {
    bufpool *bp = bufpool_new(64 * PAGE);
    CHECK(bp != NULL);
    if (!bp)
        return;
    char *a = bufpool_alloc(bp, 100), *b = bufpool_alloc(bp, PAGE), *c = bufpool_alloc(bp, 0);
    CHECK(a && b && c);
    CHECK((uintptr_t)a % PAGE == 0 && (uintptr_t)b % PAGE == 0 && (uintptr_t)c % PAGE == 0);
    CHECK(b == a + PAGE && c == b + PAGE); // whole pages, first fit from the bottom
    memset(a, 1, 100);
    memset(b, 2, PAGE);
    CHECK(bufpool_in_use(bp) == 3 * PAGE && bufpool_high_water(bp) == 3 * PAGE);
    CHECK(bufpool_owns(bp, a) && bufpool_owns(bp, c + PAGE - 1));
    int on_stack = 0;
    char *elsewhere = malloc(16);
    CHECK(!bufpool_owns(bp, &on_stack) && !bufpool_owns(bp, elsewhere) && !bufpool_owns(bp, NULL));
    free(elsewhere);
    // a freed block is reused by the next one that fits
    bufpool_free(bp, b, PAGE);
    CHECK(bufpool_alloc(bp, 10) == b);
    // freed neighbours merge: a, b, c given back in that order make one 3-page extent
    bufpool_free(bp, a, 100);
    bufpool_free(bp, c, 0);
    bufpool_free(bp, b, 10);
    CHECK(bufpool_in_use(bp) == 0);
    CHECK(bufpool_alloc(bp, 3 * PAGE) == a);
    CHECK(bufpool_high_water(bp) == 3 * PAGE);
    bufpool_delete(bp);
}

static void test_full(void) {
    bufpool *bp = bufpool_new(4 * PAGE + 123); // rounded down to whole pages
    char *a = bufpool_alloc(bp, 4 * PAGE);
    CHECK(a != NULL);
    CHECK(bufpool_alloc(bp, 1) == NULL); // full: the caller falls back to malloc
    CHECK(bufpool_alloc(bp, 5 * PAGE) == NULL);
    bufpool_free(bp, a, 4 * PAGE);
    CHECK(bufpool_alloc(bp, 2 * PAGE) == a);
    CHECK(bufpool_alloc(bp, 3 * PAGE) == NULL); // 2 pages left: no room for 3
    CHECK(bufpool_alloc(bp, 2 * PAGE) == a + 2 * PAGE);
    bufpool_delete(bp);
    // no pool at all is a valid pool that never has room
    CHECK(bufpool_alloc(NULL, 16) == NULL && !bufpool_owns(NULL, a));
    bufpool_free(NULL, NULL, 0);
    bufpool_delete(NULL);
    CHECK(bufpool_new(100) == NULL); // less than a page
}

// The free list grows past its first capacity: every other block freed leaves 50 gaps.
static void test_many_gaps(void) {
    enum {
        N = 100
    };
    bufpool *bp = bufpool_new(N * PAGE);
    char *blk[N];
    for (int i = 0; i < N; i++)
        blk[i] = bufpool_alloc(bp, PAGE);
    CHECK(blk[N - 1] == blk[0] + (N - 1) * PAGE);
    for (int i = 0; i < N; i += 2)
        bufpool_free(bp, blk[i], PAGE);
    CHECK(bufpool_alloc(bp, 2 * PAGE) == NULL); // 50 pages free, none of them adjacent
    for (int i = 1; i < N; i += 2)
        bufpool_free(bp, blk[i], PAGE);
    CHECK(bufpool_in_use(bp) == 0);
    CHECK(bufpool_alloc(bp, N * PAGE) == blk[0]); // all merged back into one
    bufpool_delete(bp);
}

typedef struct worker {
    bufpool *bp;
    unsigned seed;
    char tag; // the first byte this thread fills with (its blocks hold tag + slot)
    int overlaps, fallbacks;
} worker;

// Allocates blocks of random sizes, fills each with its own byte and checks it is intact
// before freeing: a block handed to both threads at once would be overwritten.
static void *churn(void *arg) {
    worker *w = arg;
    enum {
        HELD = 8
    };
    char *held[HELD] = { 0 };
    size_t size[HELD] = { 0 };
    for (int round = 0; round < 2000; round++) {
        int k = (int)(rand_r(&w->seed) % HELD);
        if (held[k]) {
            for (size_t i = 0; i < size[k]; i += 97)
                w->overlaps += held[k][i] != (char)(w->tag + k);
            bufpool_free(w->bp, held[k], size[k]);
            held[k] = NULL;
        } else {
            size[k] = 1 + rand_r(&w->seed) % (5 * PAGE);
            held[k] = bufpool_alloc(w->bp, size[k]);
            if (!held[k]) {
                w->fallbacks++;
                continue;
            }
            memset(held[k], w->tag + k, size[k]);
        }
    }
    for (int k = 0; k < HELD; k++)
        bufpool_free(w->bp, held[k], size[k]);
    return NULL;
}

static void test_threads(void) {
    bufpool *bp = bufpool_new(256 * PAGE);
    worker w[2] = { { bp, 2, 1, 0, 0 }, { bp, 7, 17, 0, 0 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, churn, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK(w[0].overlaps == 0 && w[1].overlaps == 0);
    CHECK(bufpool_in_use(bp) == 0);
    CHECK(bufpool_alloc(bp, 256 * PAGE) != NULL); // every block given back and merged
    bufpool_delete(bp);
}

int main(void) {
    test_blocks();
    test_full();
    test_many_gaps();
    test_threads();
    return check_done();
}
