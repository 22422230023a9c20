/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Signals during a transition. A process killed between two steps leaves the GPU half-lent, so
 * SIGINT and SIGTERM only ask: the step under way finishes, then attach rolls back and release
 * and recover carry on to the end (engine.c asks interrupt_pending() between steps). SIGHUP (the
 * end of the terminal's session, as when attach stops the desktop the terminal runs in) and
 * SIGPIPE (the reader of the output went away) are ignored: a transition never ends half-way
 * because its caller did. */

/* Installs the handlers (SA_RESTART); a signal already pending stays pending. 0 or -errno. */
int interrupt_install(void);
/* The first SIGINT or SIGTERM since the process started or interrupt_clear(); 0 when none. */
int interrupt_pending(void);
void interrupt_clear(void);
