/*
 * prof_dump_off - pgc_prof_dump in a process that does not profile
 * (POOLGC_PROF unset, as the test harness leaves it) writes nothing and
 * returns -1 with errno EINVAL (include/poolgc.h), for a path and for NULL.
 */
#include <errno.h>
#include <poolgc.h>
#include <unistd.h>

#include "../check.h"

int main(void) {
    const char *path = "prof_dump_off.heap";
    unlink(path);
    errno = 0;
    int rc = pgc_prof_dump(path);
    CHECK(rc == -1 && errno == EINVAL, "pgc_prof_dump(path) = %d, errno %d", rc, errno);
    CHECK(access(path, F_OK) != 0, "%s was written", path);
    errno = 0;
    rc = pgc_prof_dump(NULL);
    CHECK(rc == -1 && errno == EINVAL, "pgc_prof_dump(NULL) = %d, errno %d", rc, errno);
    return check_done();
}
