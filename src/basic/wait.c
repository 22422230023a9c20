/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The only file that may pause: every line here that does so mentions "wait", which is what the
 * repository hook looks for. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>

#include "basic/macro.h"
#include "basic/wait.h"

static uint64_t timespec_usec(const struct timespec *ts)
{
        return (uint64_t)ts->tv_sec * USEC_PER_SEC + (uint64_t)ts->tv_nsec / 1000;
}

static struct timespec usec_timespec(uint64_t usec)
{
        return (struct timespec){ .tv_sec = (time_t)(usec / USEC_PER_SEC),
                                  .tv_nsec = (long)(usec % USEC_PER_SEC) * 1000 };
}

static uint64_t real_now(void *userdata)
{
        struct timespec ts;

        /* CLOCK_MONOTONIC cannot fail with a valid pointer */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return timespec_usec(&ts);
}

static int real_pause(void *userdata, uint64_t usec)
{
        struct timespec until;
        uint64_t end = real_now(NULL);
        int r;

        end = usec > UINT64_MAX - end ? UINT64_MAX : end + usec;
        until = usec_timespec(end);
        /* an absolute deadline, so a signal that interrupts the wait does not stretch it */
        do
                r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL); /* the wait */
        while (r == EINTR);
        return -r;
}

const struct clock_ops clock_real = {
        .now_usec = real_now,
        .pause_usec = real_pause,
};

uint64_t clock_now(const struct clock_ops *clk)
{
        if (!clk)
                clk = &clock_real;
        return clk->now_usec(clk->userdata);
}

int clock_pause(const struct clock_ops *clk, uint64_t usec)
{
        if (!clk)
                clk = &clock_real;
        return clk->pause_usec(clk->userdata, usec);
}

int wait_until(const struct clock_ops *clk, uint64_t timeout_usec, int (*condition)(void *userdata),
               void *userdata)
{
        uint64_t now = clock_now(clk), deadline, step = WAIT_BACKOFF_MIN_USEC;

        deadline = timeout_usec > UINT64_MAX - now ? UINT64_MAX : now + timeout_usec;
        for (;;) {
                uint64_t pause;
                int r = condition(userdata);

                if (r > 0)
                        return 0;
                if (r < 0)
                        return r;
                now = clock_now(clk);
                if (now >= deadline)
                        return -ETIMEDOUT;
                /* short first: most conditions turn true within milliseconds */
                pause = deadline - now < step ? deadline - now : step;
                r = clock_pause(clk, pause);
                if (r < 0)
                        return r;
                step = step * 2 > WAIT_BACKOFF_MAX_USEC ? WAIT_BACKOFF_MAX_USEC : step * 2;
        }
}

struct path_wait {
        const struct sysroot *sr;
        const char *path;
        int inotify_fd;
};

static int path_exists(void *userdata)
{
        struct path_wait *w = userdata;

        return sysroot_exists(w->sr, w->path);
}

/* A real-clock pause that ends early when the watched directory changes. */
static int inotify_pause(void *userdata, uint64_t usec)
{
        struct path_wait *w = userdata;
        struct pollfd p = { .fd = w->inotify_fd, .events = POLLIN };
        struct timespec ts = usec_timespec(usec);
        char buf[4096];
        int r;

        r = ppoll(&p, 1, &ts, NULL); /* the wait, woken by inotify */
        if (r < 0)
                return errno == EINTR ? 0 : negative_errno();
        /* drain: the events only wake us, the condition says whether the path is there */
        while (r > 0 && read(w->inotify_fd, buf, sizeof(buf)) > 0)
                ;
        return 0;
}

static int watch_parent(const struct sysroot *sr, const char *path)
{
        _cleanup_free_ char *parent = NULL, *full = NULL;
        _cleanup_close_ int fd = -1;
        char *slash;

        parent = strdup(path);
        if (!parent)
                return -ENOMEM;
        while ((slash = strrchr(parent, '/')) && slash[1] == '\0')
                *slash = '\0';
        slash = strrchr(parent, '/');
        if (slash)
                *slash = '\0';
        else
                strcpy(parent, ".");
        /* inotify takes only a path string; a watch merely wakes us early, it proves nothing */
        full = sysroot_path(sr, *parent ? parent : ".");
        if (!full)
                return -ENOMEM;
        fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (inotify_add_watch(fd, full, IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

int wait_for_path(const struct sysroot *sr, const char *path, const struct clock_ops *clk,
                  uint64_t timeout_usec)
{
        struct path_wait w = { .sr = sr, .path = path, .inotify_fd = -1 };
        struct clock_ops inotify_clock = {
                .now_usec = real_now, .pause_usec = inotify_pause, .userdata = &w
        };
        int r;

        /* Most paths are there already: closing an inotify instance costs a grace period (ms). */
        r = path_exists(&w);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!clk || clk == &clock_real) {
                /* watching before the first check, so a node created in between still wakes us */
                w.inotify_fd = watch_parent(sr, path);
                if (w.inotify_fd >= 0)
                        clk = &inotify_clock;
        }
        r = wait_until(clk, timeout_usec, path_exists, &w);
        closep(&w.inotify_fd);
        return r;
}
