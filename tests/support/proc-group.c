/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A real process group for tests (see proc-group.h). */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/proc.h"
#include "basic/sysroot.h"
#include "proc-group.h"

/* The most a group left by a failed test lives. */
#define PROC_GROUP_LIFETIME_S 120

void proc_group_boot_id(char buf[static 40])
{
        struct sysroot *host = NULL;

        assert_int_equal(sysroot_open("/", &host), 0);
        if (sysroot_read_attr(host, "proc/sys/kernel/random/boot_id", buf, 40) < 0)
                buf[0] = '\0';
        sysroot_free(host);
}

void proc_group_spawn(struct proc_group *pg, bool leader_exits)
{
        struct sysroot *host = NULL;
        struct process_id id;
        int alive[2], ready[2];
        pid_t member = 0;

        assert_int_equal(pipe(alive), 0);
        assert_int_equal(pipe(ready), 0);
        pg->leader = fork();
        assert_true(pg->leader >= 0);
        if (pg->leader == 0) {
                int null = open("/dev/null", O_WRONLY);
                /* Neither holds the test's output open, and both end by themselves when a failed
                 * test leaves them (SIGALRM; alarm() is not inherited, each sets its own). */
                if (null < 0 || dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
                        _exit(1);
                (void)setpgid(0, 0);
                close(alive[0]);
                close(ready[0]);
                member = fork();
                if (member == 0) {
                        close(ready[1]);
                        alarm(PROC_GROUP_LIFETIME_S);
                        for (;;)
                                pause();
                }
                (void)!write(ready[1], &member, sizeof(member));
                if (leader_exits)
                        _exit(0);
                alarm(PROC_GROUP_LIFETIME_S);
                for (;;)
                        pause();
        }
        (void)setpgid(pg->leader, pg->leader);
        close(alive[1]);
        close(ready[1]);
        assert_int_equal(read(ready[0], &member, sizeof(member)), sizeof(member));
        close(ready[0]);
        assert_true(member > 0);
        pg->member = member;
        pg->alive = alive[0];
        assert_int_equal(sysroot_open("/", &host), 0);
        assert_int_equal(process_id_read(host, pg->leader, &id, NULL, 0), 0);
        sysroot_free(host);
        pg->g = (struct command_group){.pgid = pg->leader, .start_time = id.start_time};
        proc_group_boot_id(pg->g.boot_id);
        if (leader_exits) {
                int status;
                assert_int_equal(waitpid(pg->leader, &status, 0), pg->leader);
                assert_true(WIFEXITED(status));
                pg->leader = 0;
        }
}

bool proc_group_running(const struct proc_group *pg)
{
        struct pollfd p = {.fd = pg->alive, .events = POLLIN};
        char c;

        assert_true(poll(&p, 1, 0) >= 0);
        if (!p.revents)
                return true;
        return read(pg->alive, &c, 1) != 0; /* 0: EOF, no writer left */
}

void proc_group_end(struct proc_group *pg)
{
        if (pg->member > 0)
                (void)kill(pg->member, SIGKILL);
        if (pg->leader > 0) {
                (void)kill(pg->leader, SIGKILL);
                (void)waitpid(pg->leader, NULL, 0);
        }
        if (pg->alive >= 0)
                close(pg->alive);
        pg->alive = -1;
}
