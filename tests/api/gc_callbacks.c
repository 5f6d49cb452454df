/* gc_callbacks - every callback sees PGC_START then PGC_STOP with the
 * generation, in the order they were added, with the counts at STOP; a
 * removed callback is not called, even when it removes itself during a
 * collection; a collection started from a callback does not nest. */
#include <string.h>

#include "gc_test.h"

static char log_buf[256];

static void logger(int phase, const pgc_collect_info *info, void *arg) {
    char entry[32];
    snprintf(entry, sizeof entry, "%s:%s%d:%zu,%zu ", (const char *)arg,
             phase == PGC_START ? "start" : "stop", info->generation, info->collected,
             info->uncollectable);
    strncat(log_buf, entry, sizeof log_buf - strlen(log_buf) - 1);
    if (pgc_collect(2) != 0) /* must not nest */
        strncat(log_buf, "NESTED ", sizeof log_buf - strlen(log_buf) - 1);
}

static int once_calls;
static void once(int phase, const pgc_collect_info *info, void *arg) {
    (void)phase, (void)info;
    once_calls++;
    pgc_callback_remove(once, arg);
}

int main(void) {
    CHECK(pgc_callback_add(logger, "A") == 0, "add A");
    CHECK(pgc_callback_add(logger, "B") == 0, "add B");
    node *n = node_new(1);
    node_set(n, 0, n);
    pgc_decref(n);
    pgc_collect(1);
    CHECK(strcmp(log_buf, "A:start1:0,0 B:start1:0,0 A:stop1:1,0 B:stop1:1,0 ") == 0, "log: %s",
          log_buf);

    CHECK(pgc_callback_remove(logger, "A") == 0, "remove A");
    CHECK(pgc_callback_remove(logger, "A") == -1, "removed twice");
    log_buf[0] = 0;
    pgc_collect(0);
    CHECK(strcmp(log_buf, "B:start0:0,0 B:stop0:0,0 ") == 0, "log: %s", log_buf);

    pgc_callback_add(once, NULL);
    pgc_collect(2);
    pgc_collect(2);
    CHECK(once_calls == 1, "self-removing callback called %d times", once_calls);
    CHECK(pgc_callback_remove(logger, "B") == 0, "remove B");
    return check_done();
}
