/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/macro.h"
#include "handoff/detach.h"

static volatile pid_t transition_pid;

static void pass_on(int sig)
{
        if (transition_pid > 0)
                kill(transition_pid, sig);
}

int transition_detach(int *ret_status)
{
        struct sigaction pass = {.sa_handler = pass_on, .sa_flags = SA_RESTART}, ignore = {.sa_handler = SIG_IGN},
                         old_int, old_term, old_hup;
        sigset_t block, old_mask;
        int status = 0, r = 0;
        pid_t pid;

        sigemptyset(&pass.sa_mask);
        sigemptyset(&ignore.sa_mask);
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGHUP);
        fflush(NULL);
        /* Blocked across the fork: a signal in between reaches the child once both are set up. */
        if (sigprocmask(SIG_BLOCK, &block, &old_mask) < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0) {
                r = negative_errno();
                sigprocmask(SIG_SETMASK, &old_mask, NULL);
                return r;
        }
        if (pid == 0) {
                /* Cannot fail in a fresh child (it leads no process group). */
                (void)setsid();
                sigprocmask(SIG_SETMASK, &old_mask, NULL);
                return 0;
        }
        transition_pid = pid;
        sigaction(SIGINT, &pass, &old_int);
        sigaction(SIGTERM, &pass, &old_term);
        sigaction(SIGHUP, &ignore, &old_hup);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = negative_errno();
                        break;
                }
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        transition_pid = 0;
        if (r < 0)
                return r;
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return 1;
}
