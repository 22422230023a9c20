/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What libvirt should have given back when a VM stopped. A managed='yes' hostdev is the hook's to
 * free from the host (unbind-driver in the journal) and libvirt's to bind to vfio-pci, so there
 * is no bind-vfio step for it; libvirt unbinds it from vfio-pci again before it runs the hook's
 * "release end". It does not when it remembers the device as managed='no' from an earlier domain
 * (libvirt keeps that until libvirtd restarts): the device stays on vfio-pci, and undoing the
 * unbind-driver step fails. libvirt_give_back() does what libvirt left undone, as libvirt does
 * it: unbind from vfio-pci, clear a driver_override that names vfio-pci. At "release end", when
 * QEMU is gone, and by release and recover of a transition the hook started; while a VM holds a
 * device's /dev/vfio node nothing is taken (it would take the device from the VM).
 *
 * Library code: never prints, never exits. */

#include "basic/strv.h"
#include "handoff/context.h"
#include "change/journal.h"

/* True when the libvirt hook started the journal's transition (its first phase's command is
 * "hook VM"): only then can libvirt have bound a device the journal only freed. */
bool libvirt_started(const struct journal_state *st);

/* The devices of the journal's transition that were freed for the caller to bind (an
 * unbind-driver step and no bind-vfio step) and are on vfio-pci now are taken from it, each
 * added to *ret_taken. None is taken while a process holds the /dev/vfio node of any of them (a VM
 * still runs): -EBUSY, naming it. 0 (also when there was nothing to do), or -errno with *ret_error
 * one line naming the device; the devices before it are given back. */
int libvirt_give_back(const struct handoff_ctx *ctx, const struct journal_state *st, struct strv *ret_taken,
                      char **ret_error);
