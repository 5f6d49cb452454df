/*
 * message - poolgc's one output path (lib/message.c): pgc__message writes
 * one whole line, formatted like printf and ended by a newline; a longer
 * text is cut to fit PGC_MESSAGE_MAX bytes, newline included; errno is kept.
 * When the program has closed fd 2, lines still arrive: they go to the
 * copy of stderr taken at start-up (pgc__message_init).
 *
 * The child (this program run again by run_self.h) starts with its stderr
 * on a pipe, so the copy taken at its start-up is that pipe; it writes,
 * closes fd 2, writes again. The parent reads everything from the pipe.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "../check.h"
#include "run_self.h"

static int child(void) {
    pgc__message_init(); /* start-up does it (init.c); idempotent */
    int ok = 1;
    static char big[3 * PGC_MESSAGE_MAX];
    memset(big, 'x', sizeof big - 1);
    pgc__message("hello %d %s", 42, "world");
    pgc__message("%s", big);
    errno = EDOM;
    pgc__message("errno kept");
    ok &= errno == EDOM;
    close(STDERR_FILENO);
    pgc__message("after close %d", 2);
    errno = ERANGE;
    pgc__message_write(STDERR_FILENO, "raw\n", 4);
    ok &= errno == ERANGE;
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc == 2)
        return child();
    static char err[4 * PGC_MESSAGE_MAX];
    int rc = run_self("child", (char *[]){NULL}, err, sizeof err);
    CHECK(rc == 0, "child exit status %d (errno not kept?)", rc);

    const char *first = "hello 42 world\n";
    CHECK(!strncmp(err, first, strlen(first)), "first line: [%.40s]", err);
    const char *line = err + strlen(first);
    size_t len = strspn(line, "x");
    CHECK(line[len] == '\n', "the long line does not end in a newline: [%.20s]", line + len);
    CHECK(len + 1 <= PGC_MESSAGE_MAX && len + 1 >= PGC_MESSAGE_MAX - 1,
          "the long line has %zu bytes, limit %d", len + 1, PGC_MESSAGE_MAX);
    CHECK(!strcmp(line + len + 1, "errno kept\nafter close 2\nraw\n"),
          "after the long line: [%s] (lost when fd 2 was closed?)", line + len + 1);
    return check_done();
}
