/* gc_long_chain - freeing a 10-million-long chain does not grow the C stack:
 * dropped by reference counting, and collected as garbage hanging off a
 * cycle, both on a thread whose whole stack is 1 MiB. */
#include <pthread.h>

#include "gc_test.h"

#define LENGTH 10000000L

typedef struct cell {
    void *next;
} cell;

static size_t cells_released;
static void cell_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    visit(((cell *)obj)->next, arg);
}
static void cell_release(void *obj) {
    (void)obj;
    cells_released++;
}
static const pgc_type cell_type = {"cell", cell_traverse, NULL, cell_release};

/* A chain of n links; returns its head. Each cell owns the reference to the
 * next one (taken over from pgc_new). */
static cell *chain(long n) {
    cell *head = NULL;
    for (long i = 0; i < n; i++) {
        cell *l = pgc_new(&cell_type, sizeof(cell));
        if (!l) {
            perror("pgc_new");
            exit(2);
        }
        l->next = head;
        head = l;
    }
    return head;
}

static void *drop(void *head) {
    pgc_decref(head);
    return NULL;
}

static void *collect(void *unused) {
    (void)unused;
    return (void *)pgc_collect(2);
}

static void on_small_stack(void *(*fn)(void *), void *arg, void **result) {
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    if (pthread_create(&t, &attr, fn, arg) != 0) {
        perror("pthread_create");
        exit(2);
    }
    pthread_join(t, result);
    pthread_attr_destroy(&attr);
}

int main(void) {
    pgc_disable(); /* keep the test about the stack, not about collections */
    on_small_stack(drop, chain(LENGTH), NULL);
    CHECK(cells_released == LENGTH, "reference counting freed %zu", cells_released);

    cell *head = chain(LENGTH);
    node *cycle = node_new(0);
    node_set(cycle, 0, cycle);
    node_set(cycle, 1, head);
    pgc_decref(head);
    pgc_decref(cycle);
    void *found;
    cells_released = 0;
    on_small_stack(collect, NULL, &found);
    CHECK((size_t)found == LENGTH + 1, "collection found %zu", (size_t)found);
    CHECK(cells_released == LENGTH && nodes_released == 1, "collection freed %zu", cells_released);
    return check_done();
}
