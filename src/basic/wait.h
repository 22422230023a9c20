/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Waiting for a condition with a deadline: the one place in this program that pauses. Nothing
 * sleeps blindly ("sleep 10" guesses); every wait re-checks the real condition and gives up at
 * a deadline. The clock is a seam so that tests drive virtual time. */

#include <stdint.h>

#include "basic/sysroot.h"
#include "basic/time-util.h"


/* The first and the longest pause between two checks of a condition. */
#define WAIT_BACKOFF_MIN_USEC (1 * USEC_PER_MSEC)
#define WAIT_BACKOFF_MAX_USEC (50 * USEC_PER_MSEC)

struct clock_ops {
        /* The current time in µs on a clock that never goes back. */
        uint64_t (*now_usec)(void *userdata);
        /* Pauses for usec µs (may return early); 0 or -errno. */
        int (*pause_usec)(void *userdata, uint64_t usec);
        void *userdata;
};

/* CLOCK_MONOTONIC; its pause is an absolute-deadline clock_nanosleep. NULL means this clock. */
extern const struct clock_ops clock_real;

uint64_t clock_now(const struct clock_ops *clk);
int clock_pause(const struct clock_ops *clk, uint64_t usec);

/* Calls condition(userdata) until it returns > 0 (returns 0), < 0 (returns that error) or the
 * deadline, timeout_usec after the call, has passed (-ETIMEDOUT). The condition is checked at
 * once, then after pauses of 1 ms doubling to 50 ms, and once more at the deadline itself;
 * a pause never reaches past the deadline. timeout_usec 0 checks once; USEC_INFINITY waits
 * for ever. A failing pause_usec ends the wait with its error. */
int wait_until(const struct clock_ops *clk, uint64_t timeout_usec, int (*condition)(void *userdata),
               void *userdata);

/* Waits for path (relative to the root) to exist, e.g. dev/vfio/N, which appears once the
 * kernel considers an IOMMU group viable. On the real clock an inotify watch on the path's
 * parent directory wakes the wait as soon as something there changes; the backoff stays as
 * the fallback, so a missed event (or a parent directory that does not exist yet, or no
 * inotify) costs at most 50 ms. Any other clock polls, so tests drive it with virtual time. */
int wait_for_path(const struct sysroot *sr, const char *path, const struct clock_ops *clk,
                  uint64_t timeout_usec);
