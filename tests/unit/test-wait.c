/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for wait_until() and wait_for_path(). The fake clock advances virtual time when asked to
 * pause, so these waits take no real time and their schedule is exact; a few short tests on
 * the real clock prove the default clock and the inotify path. */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testtree.h"

#include "basic/macro.h"
#include "basic/wait.h"

struct fake_clock {
        uint64_t now;
        unsigned pauses;
        int pause_error;                           /* returned by the next pause when set */
        void (*on_pause)(struct fake_clock *c);    /* runs after time has moved on */
        void *data;
};

static uint64_t fake_now(void *userdata)
{
        return ((struct fake_clock *)userdata)->now;
}

static int fake_pause(void *userdata, uint64_t usec)
{
        struct fake_clock *c = userdata;

        if (c->pause_error)
                return c->pause_error;
        assert_true(usec > 0);
        assert_true(usec <= WAIT_BACKOFF_MAX_USEC);
        c->now += usec;
        c->pauses++;
        if (c->on_pause)
                c->on_pause(c);
        return 0;
}

static struct clock_ops fake_ops(struct fake_clock *c)
{
        return (struct clock_ops){ .now_usec = fake_now, .pause_usec = fake_pause, .userdata = c };
}

static uint64_t real_usec(void)
{
        struct timespec ts;

        assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* A condition on the fake clock: true from a given virtual time, or failing at a given call. */
struct probe {
        struct fake_clock *clock;
        uint64_t true_at;
        unsigned calls, fail_at_call;
        int error;
        uint64_t last_check;
};

static int probe(void *userdata)
{
        struct probe *p = userdata;

        p->calls++;
        p->last_check = p->clock ? p->clock->now : 0;
        if (p->fail_at_call && p->calls == p->fail_at_call)
                return p->error;
        return p->clock && p->clock->now >= p->true_at;
}

static struct test_tree *tree_new(void)
{
        struct test_tree *t = test_tree_new("test-wait");
        return t;
}

static void test_true_later(void **state)
{
        struct fake_clock c = { .now = 5 * USEC_PER_SEC };
        struct clock_ops clk = fake_ops(&c);
        struct probe p = { .clock = &c, .true_at = 5 * USEC_PER_SEC + 30 * USEC_PER_MSEC };

        assert_int_equal(wait_until(&clk, USEC_PER_SEC, probe, &p), 0);
        /* checks at 0, 1, 3, 7, 15 and 31 ms: the first at or after 30 ms succeeds */
        assert_true(c.now == 5 * USEC_PER_SEC + 31 * USEC_PER_MSEC);
        assert_int_equal(p.calls, 6);
        assert_int_equal(c.pauses, 5);
}

static void test_true_at_once(void **state)
{
        struct fake_clock c = {};
        struct clock_ops clk = fake_ops(&c);
        struct probe p = { .clock = &c, .true_at = 0 };

        assert_int_equal(wait_until(&clk, USEC_PER_SEC, probe, &p), 0);
        assert_int_equal(p.calls, 1);
        assert_int_equal(c.pauses, 0);
}

static void test_timeout(void **state)
{
        struct fake_clock c = { .now = 1000 };
        struct clock_ops clk = fake_ops(&c);
        struct probe p = { .clock = &c, .true_at = UINT64_MAX };

        assert_int_equal(wait_until(&clk, USEC_PER_SEC, probe, &p), -ETIMEDOUT);
        /* exactly at the deadline, checked there one last time */
        assert_true(c.now == 1000 + USEC_PER_SEC);
        assert_true(p.last_check == 1000 + USEC_PER_SEC);
        /* 0 1 3 7 15 31 63, then every 50 ms from 113 to 963, then 1000 */
        assert_int_equal(p.calls, 7 + 18 + 1);
}

static void test_timeout_zero(void **state)
{
        struct fake_clock c = {};
        struct clock_ops clk = fake_ops(&c);
        struct probe p = { .clock = &c, .true_at = 1 };

        assert_int_equal(wait_until(&clk, 0, probe, &p), -ETIMEDOUT);
        assert_int_equal(p.calls, 1);
        assert_int_equal(c.pauses, 0);
        assert_true(c.now == 0);
}

static void test_error_propagates(void **state)
{
        struct fake_clock c = {};
        struct clock_ops clk = fake_ops(&c);
        struct probe p = { .clock = &c, .true_at = UINT64_MAX, .fail_at_call = 3, .error = -EIO };

        assert_int_equal(wait_until(&clk, USEC_PER_SEC, probe, &p), -EIO);
        assert_int_equal(p.calls, 3);
        assert_true(c.now == 3 * USEC_PER_MSEC);

        /* a pause that fails ends the wait with its error */
        c = (struct fake_clock){ .pause_error = -EINTR };
        p = (struct probe){ .clock = &c, .true_at = UINT64_MAX };
        assert_int_equal(wait_until(&clk, USEC_PER_SEC, probe, &p), -EINTR);
        assert_int_equal(p.calls, 1);
}

/* An hour of virtual waiting costs no real time, and the deadline does not overflow. */
static void test_no_real_time(void **state)
{
        struct fake_clock c = {};
        struct clock_ops clk = fake_ops(&c);
        struct probe p = { .clock = &c, .true_at = UINT64_MAX };
        uint64_t start = real_usec();

        assert_int_equal(wait_until(&clk, 3600 * USEC_PER_SEC, probe, &p), -ETIMEDOUT);
        assert_true(c.now == 3600 * USEC_PER_SEC);
        assert_true(real_usec() - start < USEC_PER_SEC);

        c = (struct fake_clock){ .now = UINT64_MAX - 10 };
        p = (struct probe){ .clock = &c, .true_at = UINT64_MAX - 9 };
        assert_int_equal(wait_until(&clk, 100, probe, &p), 0);
        assert_int_equal(p.calls, 2);

        /* USEC_INFINITY: only the condition ends the wait */
        c = (struct fake_clock){};
        p = (struct probe){ .clock = &c, .true_at = 24 * 3600 * USEC_PER_SEC };
        assert_int_equal(wait_until(&clk, USEC_INFINITY, probe, &p), 0);
        assert_true(c.now >= 24 * 3600 * USEC_PER_SEC);
        assert_true(c.now < 24 * 3600 * USEC_PER_SEC + WAIT_BACKOFF_MAX_USEC);
}

static void test_real_clock(void **state)
{
        struct probe p = { .true_at = UINT64_MAX };
        uint64_t start = real_usec(), elapsed;

        assert_int_equal(wait_until(NULL, 20 * USEC_PER_MSEC, probe, &p), -ETIMEDOUT);
        elapsed = real_usec() - start;
        assert_true(elapsed >= 20 * USEC_PER_MSEC);
        assert_true(elapsed < 2 * USEC_PER_SEC);
        assert_true(p.calls >= 2);

        assert_true(clock_now(NULL) >= start + 20 * USEC_PER_MSEC);
        assert_int_equal(clock_pause(NULL, 0), 0);
}

static void create_vfio_node_at_20ms(struct fake_clock *c)
{
        struct test_tree *t = c->data;

        if (c->now >= 20 * USEC_PER_MSEC && t) {
                test_tree_write(t, "dev/vfio/7", "");
                c->data = NULL;
        }
}

static void test_path_fake_clock(void **state)
{
        struct test_tree *t = tree_new();
        struct fake_clock c = { .on_pause = create_vfio_node_at_20ms, .data = t };
        struct clock_ops clk = fake_ops(&c);

        test_tree_mkdir(t, "dev");
        test_tree_mkdir(t, "dev/vfio");
        assert_int_equal(wait_for_path(t->sr, "dev/vfio/7", &clk, USEC_PER_SEC), 0);
        /* created during the pause that ended at 31 ms, seen by the check right after it */
        assert_true(c.now == 31 * USEC_PER_MSEC);

        c = (struct fake_clock){};
        assert_int_equal(wait_for_path(t->sr, "dev/vfio/8", &clk, 2 * USEC_PER_SEC), -ETIMEDOUT);
        assert_true(c.now == 2 * USEC_PER_SEC);
        /* already there: no pause at all */
        c = (struct fake_clock){};
        assert_int_equal(wait_for_path(t->sr, "/dev/vfio/7", &clk, USEC_PER_SEC), 0);
        assert_int_equal(c.pauses, 0);
        test_tree_free(t);
}

struct creator {
        struct test_tree *t;
        const char *mkdir_first;
        const char *path;
        uint64_t after_usec;
};

/* A helper thread standing in for the kernel: waits, then creates the node. */
static void *create_later(void *userdata)
{
        struct creator *cr = userdata;
        struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)cr->after_usec * 1000 };
        char path[512];
        int fd;

        nanosleep(&ts, NULL); /* wait */
        /* no cmocka asserts off the main thread: a failure shows as the wait timing out */
        if (cr->mkdir_first) {
                snprintf(path, sizeof(path), "%s/%s", cr->t->dir, cr->mkdir_first);
                (void)mkdir(path, 0755);
        }
        snprintf(path, sizeof(path), "%s/%s", cr->t->dir, cr->path);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
                close(fd);
        return NULL;
}

/* The real clock: the inotify watch on dev/vfio, and the polling fallback when dev/vfio itself
 * does not exist yet. */
static void test_path_real_clock(void **state)
{
        struct test_tree *t = tree_new();
        struct creator cr = { .t = t, .path = "dev/vfio/3", .after_usec = 30 * USEC_PER_MSEC };
        pthread_t thread;
        uint64_t start, elapsed;

        test_tree_mkdir(t, "dev");
        test_tree_mkdir(t, "dev/vfio");
        start = real_usec();
        assert_int_equal(pthread_create(&thread, NULL, create_later, &cr), 0);
        assert_int_equal(wait_for_path(t->sr, "dev/vfio/3", NULL, 10 * USEC_PER_SEC), 0);
        elapsed = real_usec() - start;
        assert_int_equal(pthread_join(thread, NULL), 0);
        assert_true(elapsed >= 30 * USEC_PER_MSEC);
        assert_true(elapsed < 5 * USEC_PER_SEC);

        cr = (struct creator){ .t = t, .mkdir_first = "dev/iommu", .path = "dev/iommu/4",
                               .after_usec = 30 * USEC_PER_MSEC };
        assert_int_equal(pthread_create(&thread, NULL, create_later, &cr), 0);
        assert_int_equal(wait_for_path(t->sr, "dev/iommu/4", &clock_real, 10 * USEC_PER_SEC), 0);
        assert_int_equal(pthread_join(thread, NULL), 0);

        start = real_usec();
        assert_int_equal(wait_for_path(t->sr, "dev/vfio/9", NULL, 20 * USEC_PER_MSEC), -ETIMEDOUT);
        elapsed = real_usec() - start;
        assert_true(elapsed >= 20 * USEC_PER_MSEC);
        assert_true(elapsed < 5 * USEC_PER_SEC);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_true_later),    cmocka_unit_test(test_true_at_once),
                cmocka_unit_test(test_timeout),       cmocka_unit_test(test_timeout_zero),
                cmocka_unit_test(test_error_propagates), cmocka_unit_test(test_no_real_time),
                cmocka_unit_test(test_real_clock),    cmocka_unit_test(test_path_fake_clock),
                cmocka_unit_test(test_path_real_clock),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
