/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The kernel seam: every change the engine makes to the machine goes through these
 * operations. On a real host they write sysfs control files and load or unload modules with
 * libkmod; unit tests put a model behind them (tests/kmodel) that gives the writes the kernel's
 * meaning on a fake tree and can make any one of them fail. */

#include <stdint.h>

#include "basic/proc.h"
#include "basic/sysroot.h"

struct kernel_ops {
        /* Writes value to a control file below the root ("sys/bus/pci/drivers/nvidia/unbind",
         * ".../driver_override", "sys/bus/pci/drivers_probe", "sys/class/vtconsole/vtcon1/bind").
         * Returns 0 or -errno as the kernel's write(2) would; the real seam opens the file under
         * the write's deadline and writes only a regular file (-EINVAL for a FIFO, a device). */
        int (*write_attr)(void *userdata, const struct sysroot *sr, const char *path, const char *value);
        /* Loads a module by name, with its dependencies and soft dependencies (modprobe NAME); a
         * device's modalias ("pci:v...") loads what matches it, minus blacklisted modules. */
        int (*load_module)(void *userdata, const struct sysroot *sr, const char *name);
        /* Unloads exactly this module, never its dependencies; -EBUSY while it is in use. */
        int (*unload_module)(void *userdata, const struct sysroot *sr, const char *name);
        /* Sends sig to exactly this process: -ESRCH when it is gone or its pid now belongs to
         * another process (start time differs). */
        int (*signal_process)(void *userdata, const struct sysroot *sr, const struct process_id *id, int sig);
        /* Writes dirty data back to disk (sync(2)), so that dropping caches frees the most. */
        int (*sync)(void *userdata, const struct sysroot *sr);
};

struct kernel {
        const struct kernel_ops *ops;
        void *userdata;
        const struct sysroot *sr;
        uint64_t write_timeout_usec; /* a write still blocked after this is reported wedged */
};

/* The real kernel: writes (and sync) run in a child process under a deadline, because some never return
 * (unbinding a busy NVIDIA GPU, unbinding vfio-pci while a VM holds the device): -ETIMEDOUT
 * then, and the child is left behind, blocked in the kernel. */
extern const struct kernel_ops kernel_ops_real;

int kernel_write(const struct kernel *k, const char *path, const char *value);
int kernel_load_module(const struct kernel *k, const char *name);
int kernel_unload_module(const struct kernel *k, const char *name);
int kernel_signal_process(const struct kernel *k, const struct process_id *id, int sig);
int kernel_sync(const struct kernel *k);
