/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A transition outlives its caller's session. A single-GPU user who runs attach in a terminal
 * of the desktop that attach stops gets SIGHUP when that session ends; the sleep inhibitor
 * already lives in a unit of its own for that reason. The transition runs in a child in a new
 * session (setsid: no controlling terminal, another process group), writing to the same
 * stdout and stderr, so the caller sees its report while it lives; the caller only waits,
 * passes SIGINT and SIGTERM on (the transition finishes the step under way, then rolls back or
 * carries on, interrupt.h) and ignores SIGHUP. If the caller goes, the transition carries on. */

/* Forks. In the child (the transition): 0. In the caller: 1 once the child has ended, with
 * *ret_status its exit status, or 128 + the signal that killed it. -errno when no child could
 * be made (nothing forked; the caller may run the transition itself). stdio is flushed first. */
int transition_detach(int *ret_status);
