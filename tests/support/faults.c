/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Faults at every operation (see faults.h). */

#include <errno.h>

#include "basic/fileio.h"
#include "change/journal.h"
#include "faults.h"

jmp_buf faults_killed;
static unsigned ops, fail_at, kill_at;

static int operation(void)
{
        ops++;
        if (kill_at && ops == kill_at)
                longjmp(faults_killed, 1);
        return fail_at && ops == fail_at ? -EIO : 0;
}

static int file_op(const char *op, unsigned n, void *userdata)
{
        return operation();
}

static int journal_op(unsigned n, void *userdata)
{
        return operation();
}

void faults_on(unsigned fail, unsigned kill)
{
        ops = 0;
        fail_at = fail;
        kill_at = kill;
        fileio_set_fault_hook(file_op, NULL);
        journal_set_write_hook(journal_op, NULL);
}

void faults_off(void)
{
        fileio_set_fault_hook(NULL, NULL);
        journal_set_write_hook(NULL, NULL);
}

unsigned faults_seen(void)
{
        return ops;
}
