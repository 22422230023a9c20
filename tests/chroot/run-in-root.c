/* SPDX-License-Identifier: GPL-2.0-or-later */
/* run-in-root [--timeout SECONDS] ROOT COMMAND [ARG...]: runs one command through the commands
 * seam inside ROOT (commands_in_root(), src/change/commands.h), the way setup with --root runs
 * its generators, for the chroot suite (tests/chroot/run-chroot-tests), which checks what the
 * real update-grub, update-initramfs, dracut and kernel-install wrote. Prints the command's
 * output; exit status 0 when it succeeded, 1 with the seam's line on stderr when it did not, 2
 * on a usage error. Default limit: 900 s (dracut without host-only on a slow machine). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/time-util.h"
#include "basic/wait.h"
#include "change/commands.h"

int main(int argc, char **argv)
{
        _cleanup_free_ char *output = NULL, *error = NULL;
        unsigned long timeout = 900;
        struct commands c;
        char *end;
        int i = 1, r;

        if (argc > 2 && strcmp(argv[1], "--timeout") == 0) {
                timeout = strtoul(argv[2], &end, 10);
                if (*end || timeout == 0) {
                        fprintf(stderr, "run-in-root: --timeout wants a number of seconds, not %s\n", argv[2]);
                        return 2;
                }
                i = 3;
        }
        if (argc - i < 2) {
                fprintf(stderr, "usage: run-in-root [--timeout SECONDS] ROOT COMMAND [ARG...]\n");
                return 2;
        }
        c = commands_in_root(argv[i]);
        r = command_run(&c, (const char *const *)argv + i + 1, clock_now(NULL) + timeout * USEC_PER_SEC, &output,
                        &error);
        if (output)
                fputs(output, stdout);
        if (r < 0) {
                fprintf(stderr, "run-in-root: %s\n", error ? error : strerror(-r));
                return 1;
        }
        return 0;
}
