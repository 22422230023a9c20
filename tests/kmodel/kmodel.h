/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A model of the kernel behind src/handoff/kernel.h for unit tests: it gives writes to sysfs
 * control files and module loads and unloads their kernel meaning on a fake tree built by
 * fakehost (tests/fixtures), and can make any single operation fail. The rules follow what the
 * real kernel did in the test bed (/work/shared/testbed.md §4-5):
 *
 *   PCI  drivers/DRV/unbind ← ADDR   -ENODEV unless ADDR is bound to DRV; else both links go.
 *                                    vfio-pci and a held device (kmodel_hold_vfio): the write
 *                                    would block, the model answers kmodel_set_hold_error()'s
 *                                    error (-ETIMEDOUT, what the real seam reports) and changes
 *                                    nothing.
 *        drivers/DRV/bind ← ADDR     -ENODEV if ADDR is unknown or DRV does not match it
 *                                    (driver_override names another driver; without override:
 *                                    DRV is neither its native driver nor given its IDs by
 *                                    new_id), then -EBUSY if it has a driver (the kernel checks
 *                                    in this order); vfio-pci on a device without IOMMU group:
 *                                    -EINVAL (the probe fails).
 *        drivers/DRV/new_id ← "VVVV DDDD", remove_id: dynamic IDs; new_id probes at once.
 *        devices/ADDR/driver_override ← "vfio-pci" stores it, "\n" or "" clears it ("(null)").
 *        drivers_probe ← ADDR        a driverless device is bound to the first driver that
 *                                    matches and is registered: its driver_override, else its
 *                                    native driver, else a driver given its IDs by new_id.
 *                                    Nothing matching: it stays unbound and the write returns 0.
 *                                    A failing vfio-pci probe (no IOMMU group) also returns 0.
 *        devices/ADDR/remove ← "1"   unbinds it and takes it out of the tree (leaf devices).
 *        rescan, devices/ADDR/rescan ← "1": every removed device comes back, with
 *                                    driver_override cleared, and is probed.
 *        devices/ADDR/reset ← "1"    -ENOTTY if reset_method is missing or empty, else a reset
 *                                    of the device by the first method of its list; a first
 *                                    "bus" on a device with another function on its bus:
 *                                    -ENOTTY (what the testbed's kernel does, testbed.md §5).
 *        devices/ADDR/reset_method   "" disables resets (shows empty); "default" restores the
 *                                    list the tree started with (the real kernel probes again:
 *                                    the testbed's GPU, "bus" at boot, then shows ""; see
 *                                    kmodel_set_reset_supported()); else blank-separated names,
 *                                    each a kernel method the device supports (its starting
 *                                    list, or kmodel_set_reset_supported()'s): stored with one
 *                                    blank between; anything else -EINVAL, changing nothing.
 *        devices/BRIDGE/reset_subordinate ← "1" (where the tree has it, Linux 6.13+): a
 *                                    secondary bus reset of every device below the bridge.
 *                                    A reset counts for the device (kmodel_reset_count()); one
 *                                    made to die (kmodel_set_dies_on_reset()) then reads all
 *                                    ones in config (created if missing) and power_state
 *                                    "unknown", and the write still returns 0.
 *   Binding vfio-pci to a device of IOMMU group N creates dev/vfio/N (and dev/vfio/vfio); the
 *   last vfio-pci device of the group leaving removes dev/vfio/N. While a device is held, no
 *   other device of its group can be bound to another driver (-EINVAL, "DMA owned by user
 *   space"). Binding vfio-pci to the boot VGA device (boot_vga "1") removes the firmware
 *   framebuffers sys/bus/platform/devices/{efi,simple,vesa}-framebuffer.0, their device
 *   directories and their drivers' links, for good.
 *   Platform  sys/bus/platform/drivers/DRV/{unbind,bind} ← DEV: as PCI; a device matches only
 *             the driver it had at the start. The driver's bind and unbind files need not exist
 *             (fixtures leave them out); its link to the device is made again only where the
 *             tree had one at the start.
 *   vtconsole sys/class/vtconsole/vtconN/bind ← "0"/"1": stored ("0\n"/"1\n"); a console named
 *             "dummy device" then shows bound exactly when no other console is.
 *   Anything else that exists is written as a plain attribute (value plus a newline, as sysfs
 *   prints it); -EACCES for a file without write permission, -ENOENT for none, -EISDIR.
 *
 *   unload_module(NAME)  -ENOENT if not loaded (also for a built-in module, as delete_module(2)
 *                        says); -EBUSY if it has holders, a refcnt beyond its holders, or a
 *                        device bound to one of its PCI drivers (stricter than the kernel, which
 *                        unbinds them: kmodel_set_unload_unbinds() for that behaviour). Else
 *                        sys/module/NAME and its PCI driver directories go, the modules it
 *                        depends on lose it as holder (refcnt - 1), and what went is kept to be
 *                        put back exactly by a later load. Dependencies stay loaded.
 *   load_module(NAME)    0 if loaded or built in. Else its dependencies first (the ones it
 *                        held at the start, plus modules.dep), then its saved subtree, or a
 *                        new minimal one (initstate live, refcnt 0, holders/, and the PCI
 *                        driver directories of known modules: vfio_pci -> vfio-pci) for a module
 *                        only listed in lib/modules; -ENOENT for a module not there either. It
 *                        becomes a holder again of the modules it held (a new module: of its
 *                        modules.dep entries), each refcnt + 1; then every driverless device
 *                        one of its drivers matches (override, native, new_id) is bound, which
 *                        is how reloading the GPU driver gives it back. Soft dependencies
 *                        (vfio_iommu_type1) and module parameters are not modelled.
 *   dev/vfio/vfio exists while the module vfio is loaded (or vfio_pci when no vfio module is
 *   known). proc/modules, where the tree has it, is kept in step (the order of the start, then
 *   load order). Device nodes (dev/dri) are not modelled.
 *
 * Names: NAME may be spelled with dashes or underscores; paths may start with '/'; a path
 * through symlinks (sys/bus/pci/devices/ADDR/driver/unbind) means what it resolves to. A value's
 * trailing newline is ignored where the kernel ignores it (addresses, driver names, 0/1).
 *
 * Every operation has an op string: "write:PATH=VALUE" (PATH as the caller gave it without a
 * leading '/', VALUE without one trailing newline: "write:sys/bus/pci/devices/0000:01:00.0/
 * driver_override=" clears), "load:NAME", "unload:NAME" (NAME as given). A failed operation
 * changes nothing. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/sysroot.h"
#include "handoff/kernel.h"

struct kmodel;

/* Reads the tree's starting state: every PCI device's driver becomes its native driver, every
 * platform device's driver its only driver; module dependencies from holders/ and
 * lib/modules/RELEASE/modules.dep. sr must outlive the model. */
int kmodel_new(const struct sysroot *sr, struct kmodel **ret);
void kmodel_free(struct kmodel *m);

/* userdata = the struct kmodel. The sysroot argument of the operations is ignored: the model
 * works on the tree it was made for. */
extern const struct kernel_ops kmodel_ops;

/* A struct kernel for the engine: kmodel_ops, this model, its sysroot, write_timeout_usec 0. */
struct kernel kmodel_kernel(struct kmodel *m);

/* Fail the nth (1-based; 0: every) operation whose op string matches op_glob (fnmatch(3), flags
 * 0, so '*' also matches '/') with error (negative errno), changing nothing. Rules add up; the
 * first that fires wins. Loads of dependencies inside a load are matched too ("load:nvidia"
 * while loading nvidia_drm). Returns 0 or -ENOMEM. */
int kmodel_fail(struct kmodel *m, const char *op_glob, int error, unsigned nth);
void kmodel_fail_clear(struct kmodel *m);

/* Called before each operation (not before dependency loads) with its op string and its
 * 1-based number. Returning a negative errno fails the operation with it, changing nothing (a
 * test may also _exit() in a forked child to stop "the process" at operation n). */
typedef int (*kmodel_op_fn)(const char *op, unsigned n, void *userdata);
void kmodel_on_op(struct kmodel *m, kmodel_op_fn fn, void *userdata);

/* Operations called so far, failed ones included. */
unsigned kmodel_ops_count(const struct kmodel *m);
/* Hugepages of size_kb: the pool grows to at most limit pages in all (after_compact once memory
 * was compacted); fewer than asked is what the kernel gives when memory is short. < 0: no
 * limit, the default. The rest of that model (compaction, cgroup cpusets, SIGSTOP and SIGCONT,
 * "sync" ops) is described in room.h. */
int kmodel_hugepage_limit(struct kmodel *m, unsigned long size_kb, long limit, long after_compact);

/* Processes (proc/PID below the root) die of SIGKILL and of SIGTERM, except pid, which ignores
 * SIGTERM (a stuck process). Op string: "signal:PID=SIG". */
void kmodel_ignore_term(struct kmodel *m, pid_t pid);
/* Every operation so far, one line each: the op string, then " = -EBUSY" (the errno's name)
 * when it failed. "" before the first. The string belongs to the model. */
const char *kmodel_log(const struct kmodel *m);
void kmodel_log_clear(struct kmodel *m);

/* Like a running VM: while held, unbinding addr from vfio-pci (or removing it) blocks, which
 * the model reports as error (default -ETIMEDOUT, see kmodel_set_hold_error). */
int kmodel_hold_vfio(struct kmodel *m, const char *addr, bool hold);
void kmodel_set_hold_error(struct kmodel *m, int error);

/* The kernel's behaviour for unloading a driver module with bound devices: unbind them (true)
 * instead of refusing with -EBUSY (false, the default, which catches an engine that forgets to
 * unbind first). */
void kmodel_set_unload_unbinds(struct kmodel *m, bool unbinds);

/* Sets (or with NULL clears) the driver a device binds to natively, for devices that start
 * without one. -ENODEV for an unknown address. */
int kmodel_set_native_driver(struct kmodel *m, const char *addr, const char *driver);

/* The reset methods writes to ADDR's reset_method may name (blank-separated): what the kernel
 * would accept, e.g. device_specific once vendor-reset is loaded. NULL: its starting list. */
int kmodel_set_reset_supported(struct kmodel *m, const char *addr, const char *methods);
/* The next resets of ADDR leave it gone (see above). -ENODEV for an unknown address. */
int kmodel_set_dies_on_reset(struct kmodel *m, const char *addr, bool dies);
/* How many resets hit ADDR, its own and its bridge's; 0 for an unknown address. */
unsigned kmodel_reset_count(struct kmodel *m, const char *addr);
