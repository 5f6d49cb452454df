/*
 * message.c - the one way poolgc writes text: misuse messages, verbose
 * start-up lines, the collector's debug lines and the statistics report.
 *
 * Nothing here allocates: a line is formatted with vsnprintf into a buffer
 * on the stack and written with write(2), so it is safe inside malloc, with
 * any lock held, and while the program's stdio is broken. A line goes out in
 * one write call, so lines of different threads do not interleave.
 *
 * Where it goes: stderr (fd 2). A duplicate of fd 2 is taken at start-up
 * (close-on-exec); when fd 2 is closed by the time poolgc writes - coreutils
 * close stderr before exit (gnulib's close_stdout), so the report at exit
 * would otherwise be lost - the text goes to the duplicate.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/* Above the descriptors a program usually picks for itself. */
#define STDERR_COPY_MIN_FD 100

static int stderr_copy = -1;

void pgc__message_init(void) {
    int saved = errno;
    if (stderr_copy < 0)
        stderr_copy = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, STDERR_COPY_MIN_FD);
    errno = saved;
}

/* Write all of buf to fd, retrying short writes. Returns 0, or -1. */
static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

void pgc__message_write(int fd, const char *buf, size_t len) {
    int saved = errno;
    if (write_all(fd, buf, len) != 0 && fd == STDERR_FILENO && errno == EBADF && stderr_copy >= 0)
        write_all(stderr_copy, buf, len);
    errno = saved;
}

void pgc__message_vline(const char *fmt, va_list ap) {
    char line[PGC_MESSAGE_MAX + 1]; /* the text, then its newline or vsnprintf's NUL */
    int n = vsnprintf(line, PGC_MESSAGE_MAX, fmt, ap);
    if (n < 0)
        return;
    if (n > PGC_MESSAGE_MAX - 1)
        n = PGC_MESSAGE_MAX - 1;
    line[n++] = '\n';
    pgc__message_write(STDERR_FILENO, line, (size_t)n);
}

void pgc__message(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pgc__message_vline(fmt, ap);
    va_end(ap);
}

void pgc__message_fatal(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pgc__message_vline(fmt, ap);
    va_end(ap);
    abort();
}

void pgc__message_assert_fail(const char *what, const char *file, int line) {
    pgc__message_fatal("poolgc: internal check failed: %s (%s:%d)", what, file, line);
}
