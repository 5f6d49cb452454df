/* gc_misuse - misuse of the GC API is never silent: each case below, run in
 * a forked child, must die of SIGABRT after printing exactly one line that
 * names the function, the address and (where known) the type. Between cases
 * the parent untracks every object, so that no case's objects (some with
 * broken traverse functions) reach the next one's collections. */
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gc_test.h"

static void *target; /* the object each case misuses */

static void self_decref_release(void *obj) {
    pgc_decref(obj);
}
static const pgc_type bad_release_type = {"bad_release", NULL, NULL, self_decref_release};

static void over_decref_finalize(void *obj) {
    pgc_decref(obj);
}
static const pgc_type bad_finalize_type = {"bad_finalize", node_traverse, over_decref_finalize,
                                           NULL};

static long not_an_object[8];
static void bogus_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    (void)obj;
    visit(&not_an_object[4], arg);
}
static const pgc_type bogus_type = {"bogus", bogus_traverse, NULL, NULL};

/* traverse functions that call the API, which they must not */
static void *held; /* what the next object below holds */
static void decref_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    (void)obj;
    visit(held, arg);
    pgc_decref(held); /* count 1: the slow path */
}
static const pgc_type decref_traverse_type = {"decref_in_traverse", decref_traverse, NULL, NULL};
static int decref_done;
static void decref_once_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    (void)obj;
    visit(held, arg);
    if (!decref_done++)
        pgc_decref(held); /* count 3 -> 2: the inline fast path, no call */
}
static const pgc_type decref_once_type = {"decref_once", decref_once_traverse, NULL, NULL};
static void new_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    (void)obj;
    (void)visit;
    (void)arg;
    void *leaf = pgc_new(&leaf_type, 8);
    (void)leaf;
}
static const pgc_type new_traverse_type = {"new_in_traverse", new_traverse, NULL, NULL};

static void *partner; /* the other half of a cycle with target */

static void case_decref_freed_leaf(void) {
    pgc_decref(target);
    pgc_decref(target);
}
static void case_decref_freed_node(void) {
    pgc_decref(target);
    pgc_decref(target);
}
static void case_incref_freed(void) {
    pgc_decref(target);
    pgc_incref(target);
}
static void case_decref_at_zero(void) {
    pgc_decref(target);
}
static void case_not_gc_decref(void) {
    pgc_decref(target);
}
static void case_not_gc_refcount(void) {
    pgc_refcount(target);
}
static void case_track_leaf(void) {
    pgc_track(target);
}
static void case_finalize_over_decref(void) {
    pgc_decref(target);
}
static void case_bad_traverse(void) {
    pgc_collect(0);
}
static void case_unlock(void) {
    pgc_unlock();
}
static void case_collect(void) {
    pgc_collect(0);
}
static void case_collect_cycle(void) {
    pgc_decref(target);
    pgc_decref(partner);
    pgc_collect(2);
}

struct misuse {
    const char *name;
    void (*run)(void);
    void *(*make)(void);
    const char *func, *what, *type; /* expected in the message */
    int reported;                   /* the culprit is what target's traverse reported */
};

static void *make_leaf(void) {
    return leaf_new();
}
static void *make_node(void) {
    return node_new(1);
}
static void *make_bad_release(void) {
    return pgc_new(&bad_release_type, 8);
}
static void *make_bad_finalize(void) {
    return pgc_new(&bad_finalize_type, sizeof(node));
}
static void *make_heap_block(void) {
    void *p = pgc_calloc(1, 64);
    return (char *)p + 32;
}
static void *make_static(void) {
    return &not_an_object[4];
}
static void *make_bogus(void) {
    return pgc_new(&bogus_type, 8);
}
static void *make_none(void) {
    return NULL;
}
static void *make_decref_traverse(void) {
    held = leaf_new();
    node *n = pgc_new(&decref_traverse_type, sizeof(node));
    (void)n; /* kept: its traverse runs in the collection */
    return held;
}
static void *make_decref_once(void) {
    held = node_new(7);
    pgc_incref(held);
    pgc_incref(held);
    node *n = pgc_new(&decref_once_type, sizeof(node));
    (void)n;
    return NULL;
}
static void *make_new_traverse(void) {
    node *n = pgc_new(&new_traverse_type, sizeof(node));
    (void)n;
    return NULL;
}
static void *make_finalize_cycle(void) {
    node *a = pgc_new(&bad_finalize_type, sizeof(node)), *b = node_new(2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    partner = b;
    return a;
}

static const struct misuse cases[] = {
    {"decref of a freed leaf", case_decref_freed_leaf, make_leaf, "pgc_decref", "freed", NULL, 0},
    {"decref of a freed container", case_decref_freed_node, make_node, "pgc_decref",
     "already freed", NULL, 0},
    {"incref of a freed container", case_incref_freed, make_node, "pgc_incref", "already freed",
     NULL, 0},
    {"decref at count zero (in release)", case_decref_at_zero, make_bad_release, "pgc_decref",
     "already zero", "\"bad_release\"", 0},
    {"decref of a heap block", case_not_gc_decref, make_heap_block, "pgc_decref", "not a GC object",
     "type unknown", 0},
    {"refcount of a static array", case_not_gc_refcount, make_static, "pgc_refcount",
     "not a GC object", "type unknown", 0},
    {"track of a leaf", case_track_leaf, make_leaf, "pgc_track", "cannot be tracked", "\"leaf\"",
     0},
    {"finalize drops a reference it does not own", case_finalize_over_decref, make_bad_finalize,
     "pgc_decref", "finalize", "\"bad_finalize\"", 0},
    {"traverse reports a non-object", case_bad_traverse, make_bogus, "pgc_collect",
     "not a GC object", "\"bogus\"", 1},
    {"unlock without the lock", case_unlock, make_none, "pgc_unlock", "does not hold", NULL, 0},
    {"collector: finalize drops a reference it does not own", case_collect_cycle,
     make_finalize_cycle, "pgc_collect", "dropped a reference it does not own", "\"bad_finalize\"",
     0},
    {"traverse calls pgc_decref (count 1)", case_collect, make_decref_traverse, "pgc_decref",
     "called from the traverse function of", "\"leaf\"", 0},
    {"traverse calls pgc_decref (inline, count 3)", case_collect, make_decref_once, "pgc_collect",
     "reference counts changed while traverse functions ran", NULL, 0},
    {"traverse calls pgc_new", case_collect, make_new_traverse, "pgc_new",
     "called from the traverse function of", NULL, 0},
};

static void check_case(const struct misuse *c) {
    int fds[2];
    char msg[1024] = "";
    target = c->make();
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        dup2(fds[1], 2);
        c->run();
        _exit(0); /* not reached if the misuse is caught */
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n < sizeof msg - 1 && (r = read(fds[0], msg + n, sizeof msg - 1 - n)) > 0)
        n += (size_t)r;
    msg[n] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);

    char addr[64], parent[64];
    if (target)
        snprintf(addr, sizeof addr, "%s(%p)", c->func,
                 c->reported ? (void *)&not_an_object[4] : target);
    else
        snprintf(addr, sizeof addr, "%s: ", c->func);
    snprintf(parent, sizeof parent, "traverse of %p", target);
    CHECK(!c->reported || strstr(msg, parent), "%s: no %s in %s", c->name, parent, msg);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "%s: child status %#x", c->name,
          status);
    CHECK(strncmp(msg, "poolgc: ", 8) == 0 && strstr(msg, addr) && strstr(msg, c->what),
          "%s: message %s (want %s ... %s)", c->name, msg, addr, c->what);
    CHECK(!c->type || strstr(msg, c->type), "%s: message without %s: %s", c->name, c->type, msg);
    CHECK(n > 0 && strchr(msg, '\n') == msg + n - 1, "%s: not one line: %s", c->name, msg);
    printf("%-45s %s", c->name, msg);

    void *all[64];
    size_t k = pgc_get_objects(-1, all, 64);
    for (size_t i = 0; i < k && i < 64; i++)
        pgc_untrack(all[i]);
}

int main(void) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_case(&cases[i]);
    return check_done();
}
