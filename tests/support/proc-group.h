/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A real process group for the tests of stopping one (command_stop_group(), the setup steps'
 * reverts): a leader, our child, in a group of its own, and a member, its child, both waiting
 * for a signal. Each holds the write end of a pipe whose read end the test keeps, so that the
 * test sees without a sleep whether any of them still runs: EOF once all are gone. Needs no
 * privilege and touches no file. */

#include <stdbool.h>
#include <sys/types.h>

#include "change/commands.h"

struct proc_group {
        pid_t leader, member;
        int alive;              /* the read end */
        struct command_group g; /* the leader's pid, start time and this boot's id */
};

/* leader_exits: the leader ends (and is reaped) once the member runs, as a generator killed by
 * PR_SET_PDEATHSIG leaves its children: no process has the group's number then. */
void proc_group_spawn(struct proc_group *pg, bool leader_exits);
/* Whether a process of the group still holds the pipe (a look, no wait). */
bool proc_group_running(const struct proc_group *pg);
/* SIGKILL to what is left, reaped where it is ours; the pipe closed. */
void proc_group_end(struct proc_group *pg);
/* This boot's id, as command_group keeps it. */
void proc_group_boot_id(char buf[static 40]);
