/* A ring of three items, each holding its neighbours (a doubly linked list
 * closed on itself: every pair of neighbours is a reference cycle) and a
 * name that is a leaf object. Reference counting alone can never free it;
 * the cycle collector does. (The example of README.md, tested as is.) */
#include <poolgc.h>
#include <stdio.h>
#include <string.h>

typedef struct item {
    struct item *next, *prev; /* owned references: the holder increfs */
    char *name;               /* an owned reference to a leaf */
} item;

static void item_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    item *it = obj;
    visit(it->next, arg); /* every reference the item holds */
    visit(it->prev, arg);
    visit(it->name, arg);
}

static void item_finalize(void *obj) { /* its references are still valid here */
    printf("goodbye %s\n", ((item *)obj)->name);
}

static const pgc_type string_type = {"string", NULL, NULL, NULL}; /* a leaf */
static const pgc_type item_type = {"item", item_traverse, item_finalize, NULL};

static item *item_new(const char *name) {
    item *it = pgc_new(&item_type, sizeof *it); /* zeroed, refcount 1 */
    it->name = pgc_new(&string_type, strlen(name) + 1);
    strcpy(it->name, name);
    return it;
}

int main(void) {
    const char *names[] = {"alpha", "beta", "gamma"};
    item *ring[3];
    for (int i = 0; i < 3; i++)
        ring[i] = item_new(names[i]);
    for (int i = 0; i < 3; i++) {
        item *a = ring[i], *b = ring[(i + 1) % 3];
        a->next = pgc_incref(b);
        b->prev = pgc_incref(a);
    }
    for (int i = 0; i < 3; i++)
        pgc_decref(ring[i]); /* now only the ring holds the items */

    size_t found = pgc_collect(2); /* finalizes, then frees items and names */
    printf("collected %zu objects\n", found);
    return found == 3 ? 0 : 1;
}
