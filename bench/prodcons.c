/*
 * prodcons - producer/consumer pairs: every block is freed by a thread other
 * than the one that allocated it.
 *
 * Models a pipeline (a network thread parsing messages for a worker, a
 * logger thread draining records, a queue between stages): the producer
 * allocates small messages, fills them and hands them over in batches; the
 * consumer reads them and frees them. Every free is a remote free, the case
 * that per-thread allocators handle with a deferred/atomic list (poolgc's
 * pool remote list, mimalloc's thread_free, tcmalloc's transfer cache) and
 * that a naive per-thread cache turns into unbounded growth.
 *
 * Each pair has its own bounded queue (mutex + condition variables) of
 * batches; a batch is itself a malloc'd array, also freed by the consumer.
 * The queue bound keeps the amount of memory in flight small and fixed.
 *
 * Parameters:
 *   pairs  producer/consumer pairs (2 * pairs threads)        default 1
 *   items  messages per pair                                  default 8000000
 *   batch  messages per hand-off                              default 64
 *   depth  batches a queue holds before the producer waits    default 16
 *   max    largest message in bytes                           default 512
 *
 * ops = messages allocated and freed (pairs * items).
 */
#include <pthread.h>

#include "bench.h"

static long pairs = 1, items = 8000000, batch = 64, depth = 16, max = 512;

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    char ***ring; /* `depth` slots, each a batch: `batch` message pointers */
    long head, tail, count;
    uint64_t seed;
    unsigned long sum;
} __attribute__((aligned(64))); /* a line of its own: pairs run apart (larson.c) */

static void *producer(void *arg) {
    struct queue *q = arg;
    uint64_t rng = q->seed;
    for (long done = 0; done < items; done += batch) {
        long n = items - done < batch ? items - done : batch;
        char **b = malloc((size_t)batch * sizeof *b);
        for (long i = 0; i < n; i++) {
            size_t sz = bench_small_size(&rng, (size_t)max);
            b[i] = malloc(sz);
            memset(b[i], (int)i, sz < 24 ? sz : 24);
            b[i][0] = (char)n; /* the consumer learns the batch length */
        }
        pthread_mutex_lock(&q->lock);
        while (q->count == depth)
            pthread_cond_wait(&q->not_full, &q->lock);
        q->ring[q->tail] = b;
        q->tail = (q->tail + 1) % depth;
        q->count++;
        pthread_cond_signal(&q->not_empty);
        pthread_mutex_unlock(&q->lock);
    }
    return NULL;
}

static void *consumer(void *arg) {
    struct queue *q = arg;
    unsigned long sum = 0;
    for (long done = 0; done < items;) {
        pthread_mutex_lock(&q->lock);
        while (q->count == 0)
            pthread_cond_wait(&q->not_empty, &q->lock);
        char **b = q->ring[q->head];
        q->head = (q->head + 1) % depth;
        q->count--;
        pthread_cond_signal(&q->not_full);
        pthread_mutex_unlock(&q->lock);

        long n = (unsigned char)b[0][0];
        for (long i = 0; i < n; i++) {
            sum += (unsigned char)b[i][1];
            free(b[i]);
        }
        free(b);
        done += n;
    }
    q->sum = sum;
    return NULL;
}

int main(int argc, char **argv) {
    const struct bench_param params[] = {
        {"pairs", &pairs, "producer/consumer pairs"},
        {"items", &items, "messages per pair"},
        {"batch", &batch, "messages per hand-off (1..255)"},
        {"depth", &depth, "batches a queue holds"},
        {"max", &max, "largest message (bytes)"},
        {0, 0, 0},
    };
    bench_args(argc, argv, params);
    if (batch < 1 || batch > 255)
        batch = 64; /* the length travels in the first byte of a message */

    void *q_raw;
    struct queue *q = bench_lines((size_t)pairs, sizeof *q, &q_raw);
    pthread_t *tid = calloc((size_t)pairs * 2, sizeof *tid);
    for (long p = 0; p < pairs; p++) {
        pthread_mutex_init(&q[p].lock, NULL);
        pthread_cond_init(&q[p].not_empty, NULL);
        pthread_cond_init(&q[p].not_full, NULL);
        q[p].ring = calloc((size_t)depth, sizeof *q[p].ring);
        q[p].seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(p + 1);
    }
    for (long p = 0; p < pairs; p++) {
        pthread_create(&tid[2 * p], NULL, consumer, &q[p]);
        pthread_create(&tid[2 * p + 1], NULL, producer, &q[p]);
    }
    unsigned long sum = 0;
    for (long p = 0; p < pairs; p++) {
        pthread_join(tid[2 * p], NULL);
        pthread_join(tid[2 * p + 1], NULL);
        sum += q[p].sum;
        free(q[p].ring);
    }
    free(q_raw);
    free(tid);
    bench_result("ops=%ld check=%lu", pairs * items, sum & 0xff);
    return 0;
}
