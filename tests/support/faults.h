/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Faults at every operation, for the loops that prove a transaction leaves the tree as it was:
 * one count over both seams a change writes through, the file-system changes of basic/fileio and
 * the records of the core's journal. Operation k can fail (-EIO, as a disk would) or be where the
 * process is killed: a longjmp to faults_killed before it happens, so that what is on disk stays
 * and what is in memory is lost. */

#include <setjmp.h>

extern jmp_buf faults_killed;

/* Starts counting from 0; fail_at, kill_at: the operation to fail or to be killed at (0: none). */
void faults_on(unsigned fail_at, unsigned kill_at);
void faults_off(void);
/* The operations seen since faults_on(). */
unsigned faults_seen(void);
