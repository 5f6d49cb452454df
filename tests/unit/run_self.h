/*
 * run_self.h - for unit tests whose rule is about start-up or stderr: run
 * this same program again as a child, with a chosen environment and its
 * stderr on a pipe, and read what it wrote there. The child does its part
 * when argc == 2. (A unit test links only the objects of the convenience
 * library it names: a child that needs start-up calls pgc__init_ensure.)
 */
#ifndef POOLGC_TESTS_RUN_SELF_H
#define POOLGC_TESTS_RUN_SELF_H

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs /proc/self/exe with argv[1] = mode and exactly the environment env
 * (NULL-terminated), its stderr on a pipe. Stores what it wrote there in
 * err (at most size - 1 bytes, NUL-terminated) and returns its exit status,
 * or -1 when it could not run or did not exit normally. */
static int run_self(const char *mode, char *const env[], char *err, size_t size) {
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        char *argv[] = {"run_self", (char *)mode, NULL};
        execve("/proc/self/exe", argv, env);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (pid > 0 && (n = read(fds[0], err + len, size - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(fds[0]);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* The number of lines in text that contain want. */
__attribute__((unused)) static int lines_with(const char *text, const char *want) {
    int n = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *hit = strstr(line, want);
        if (hit && hit + strlen(want) <= line + len)
            n++;
        line += len + (end != NULL);
    }
    return n;
}

#endif /* POOLGC_TESTS_RUN_SELF_H */
