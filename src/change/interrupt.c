/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>

#include "basic/macro.h"
#include "change/interrupt.h"

static volatile sig_atomic_t pending;

static void on_signal(int sig)
{
        if (!pending)
                pending = sig;
}

int interrupt_install(void)
{
        struct sigaction ask = {.sa_handler = on_signal, .sa_flags = SA_RESTART},
                         ignore = {.sa_handler = SIG_IGN};

        sigemptyset(&ask.sa_mask);
        sigemptyset(&ignore.sa_mask);
        if (sigaction(SIGINT, &ask, NULL) < 0 || sigaction(SIGTERM, &ask, NULL) < 0 ||
            sigaction(SIGHUP, &ignore, NULL) < 0 || sigaction(SIGPIPE, &ignore, NULL) < 0)
                return negative_errno();
        return 0;
}

int interrupt_pending(void)
{
        return pending;
}

void interrupt_clear(void)
{
        pending = 0;
}
