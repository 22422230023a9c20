# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 07-room-systemd: systemd's AllowedCPUs (and the cgroups' cpusets), the
writeback cpumask and IRQ affinities confined to the housekeeping CPU while the GPU is lent and
put back to exactly their previous values by release and by recover; heavy.service frozen and
thawed."""

import re

UNITS = ("system.slice", "user.slice", "init.scope")
CPU_KINDS = ("allowed-cpus", "writeback-cpumask", "irq-affinity", "freeze-unit")


def facts(t, name):
    """{key: value} of block cpus-NAME ("key=value" lines; irqs as "irq N")."""
    b = t.block(f"cpus-{name}")
    if b is None:
        return None
    out = {}
    for ln in b.lines:
        k, sep, v = ln.partition("=")
        if sep:
            out[k] = v.strip()
    if not t.expect(all(f"allowed {u}" in out for u in UNITS), f"cpus-{name}: incomplete: {b.text!r}"):
        return None
    return out


def irqs(f):
    return {k: v for k, v in f.items() if k.startswith("irq ")}


def steps(doc, kind):
    return [s for s in doc.get("steps", []) if s.get("kind") == kind]


def check_attached(t, what, before, after):
    """What attach must have changed, and nothing else of what it was not asked to."""
    for u in UNITS:
        t.equal(f"{what}: AllowedCPUs of {u}", after[f"allowed {u}"], "0")
        t.equal(f"{what}: EffectiveCPUs of {u}", after[f"effective {u}"], "0")
        t.equal(f"{what}: /sys/fs/cgroup/{u}/cpuset.cpus", after[f"cpuset.cpus {u}"], "0")
        t.equal(f"{what}: /sys/fs/cgroup/{u}/cpuset.cpus.effective", after[f"cpuset.cpus.effective {u}"], "0")
    t.equal(f"{what}: writeback cpumask", after["writeback"], "1")
    b, a = irqs(before), irqs(after)
    moved = [k for k in b if k in a and b[k] != a[k]]
    wrong = {k: (b[k], a[k]) for k in moved if a[k] != "0"}
    t.equal(f"{what}: IRQs moved elsewhere than CPU 0", wrong, {})
    t.expect(moved, f"{what}: no IRQ was moved to CPU 0: {a}")
    t.equal(f"{what}: heavy.service FreezerState", after["freezer heavy.service"], "frozen")
    t.equal(f"{what}: heavy.service cgroup.freeze", after["cgroup.freeze heavy.service"], "1")
    return len(moved), len([k for k in b if k in a and b[k] == a[k] and "1" in b[k]])


def check_restored(t, what, before, after):
    for k in sorted(set(before) | set(after)):
        if k.startswith(("irq ", "dropin ", "heavy-pid", "effective ", "cpuset.cpus")):
            continue
        t.equal(f"{what}: {k}", after.get(k), before.get(k))
    # What the kernel applies: a unit whose AllowedCPUs is back while its cgroup still confines it
    # is named as such (systemd 252 leaves init.scope's cpuset.cpus alone when AllowedCPUs= goes
    # back to unset while another unit keeps the cpuset controller enabled)
    for u in UNITS:
        kernel = {k: (before.get(f"{k} {u}"), after.get(f"{k} {u}"))
                  for k in ("effective", "cpuset.cpus", "cpuset.cpus.effective")}
        changed = {k: v for k, v in kernel.items() if v[0] != v[1]}
        # gpu-handoff widens an unset AllowedCPUs to every CPU before unsetting it (the only way
        # systemd 252 rewrites the cgroup): cpuset.cpus then names every CPU instead of none,
        # which confines nothing, as the unchanged effective set shows.
        cpus = changed.get("cpuset.cpus")
        if cpus and cpus[0] == "" and cpus[1] == after.get(f"cpuset.cpus.effective {u}") and \
                "cpuset.cpus.effective" not in changed and "effective" not in changed:
            del changed["cpuset.cpus"]
        if changed and after.get(f"allowed {u}") == before.get(f"allowed {u}"):
            t.fail(f"{what}: {u}: AllowedCPUs is back to {before.get(f'allowed {u}')!r}, but the cgroup still "
                   f"confines it (before, after): {changed}")
        else:
            t.equal(f"{what}: {u}: EffectiveCPUs and cgroup cpusets (before, after)", changed, {})
    b, a = irqs(before), irqs(after)
    t.equal(f"{what}: IRQ affinities (IRQs in both)", {k: a[k] for k in b if k in a}, {k: b[k] for k in b if k in a})
    t.equal(f"{what}: heavy.service's process", after.get("heavy-pid"), before.get("heavy-pid"))
    gone = sorted(set(b) ^ set(a))
    return gone


def check_run(t, what, doc, want_state):
    for kind in CPU_KINDS:
        got = [s.get("state") for s in steps(doc, kind)]
        t.expect(got and all(s == want_state for s in got), f"{what}: {kind} steps {got}, want all {want_state}")


def check(t):
    notes = []
    b1 = facts(t, "before-1")
    if b1 is not None:
        for u in UNITS:
            t.equal(f"round 1 before: AllowedCPUs of {u}", b1[f"allowed {u}"], "")
        t.equal("round 1 before: heavy.service", (b1["active heavy.service"], b1["freezer heavy.service"]),
                ("active", "running"))
        notes.append(f"before: writeback {b1['writeback']}, {len(irqs(b1))} IRQs, EffectiveCPUs "
                     f"{b1['effective system.slice']}, cpuset.cpus {b1['cpuset.cpus system.slice']!r}")

    plan = t.json("plan-1")
    if plan is not None:
        ac = steps(plan, "allowed-cpus")
        t.equal("attach --dry-run: allowed-cpus args", [s.get("args") for s in ac],
                [[u, "0", ""] for u in UNITS])
        t.equal("attach --dry-run: freeze-unit args", [s.get("args") for s in steps(plan, "freeze-unit")],
                [["heavy.service"]])
        if b1 is not None:
            t.equal("attach --dry-run: writeback-cpumask args", [s.get("args") for s in steps(plan, "writeback-cpumask")],
                    [["1", b1["writeback"]]])
            for s in steps(plan, "irq-affinity"):
                a = s.get("args") or []
                t.expect(len(a) == 3 and a[1] == "0" and b1.get(f"irq {a[0]}") == a[2],
                         f"attach --dry-run: irq-affinity {a} does not match /proc/irq before ({b1.get(f'irq {a[0]}')})")
        t.expect(not [s for s in plan.get("steps", []) if s.get("kind") in ("cgroup-cpus", "cgroup-cpuset")],
                 "attach --dry-run: cgroupfs steps on a systemd host")

    a1 = facts(t, "attached-1")
    doc = t.json("attach-1")
    if doc is not None:
        t.equal("round 1: attach ok", doc.get("ok"), True)
        check_run(t, "round 1: attach", doc, "done")
        t.log.notes.append("room steps: " + ", ".join(f"{s['kind']} {s['ms']:.1f} ms" for s in doc.get("steps", [])
                                                      if s.get("kind") in ("freeze-unit", "allowed-cpus",
                                                                           "writeback-cpumask")))
    if b1 is not None and a1 is not None:
        moved, stayed = check_attached(t, "round 1: attached", b1, a1)
        notes.append(f"attached: AllowedCPUs 0 on {len(UNITS)} units, writeback {a1['writeback']}, "
                     f"{moved} IRQs moved to CPU 0 ({stayed} on CPU 1 stayed: managed)")
    doc = t.json("release-1")
    if doc is not None:
        t.equal("round 1: release ok", doc.get("ok"), True)
        check_run(t, "round 1: release", doc, "reverted")
    r1 = facts(t, "released-1")
    if b1 is not None and r1 is not None:
        gone = check_restored(t, "round 1: released", b1, r1)
        notes.append(f"released: as before ({', '.join(gone) or 'same IRQs'} differ in presence)")
        extra = sorted(k for k in r1 if k.startswith("dropin ") and k not in b1)
        if extra:
            notes.append("runtime drop-ins left by the round trip: " + "; ".join(f"{k[7:]}: {r1[k]}" for k in extra))

    # 2. system.slice at 0-1 before
    b2 = facts(t, "before-2")
    if b2 is not None:
        t.equal("round 2 before: AllowedCPUs of system.slice", b2["allowed system.slice"], "0-1")
    doc = t.json("attach-2")
    if doc is not None:
        t.equal("round 2: attach ok", doc.get("ok"), True)
        t.equal("round 2: allowed-cpus args", [s.get("args") for s in steps(doc, "allowed-cpus")],
                [["system.slice", "0", "0-1"], ["user.slice", "0", ""], ["init.scope", "0", ""]])
    a2 = facts(t, "attached-2")
    if b2 is not None and a2 is not None:
        check_attached(t, "round 2: attached", b2, a2)
    doc = t.json("release-2")
    if doc is not None:
        t.equal("round 2: release ok", doc.get("ok"), True)
    r2 = facts(t, "released-2")
    if b2 is not None and r2 is not None:
        check_restored(t, "round 2: released", b2, r2)
        t.equal("round 2: AllowedCPUs of system.slice after release", r2["allowed system.slice"], "0-1")
        notes.append(f"round 2: system.slice 0-1 -> {a2['allowed system.slice'] if a2 else '?'} -> "
                     f"{r2['allowed system.slice']}")

    # 3. killed, then recover
    killed = [ln for ln in t.log.lines if ln.startswith("INFO killed after-cpus ")]
    if t.expect(killed, "attach was never killed after its allowed-cpus steps"):
        k3 = facts(t, "killed-3")
        if k3 is not None:
            t.equal("killed: AllowedCPUs of system.slice", k3["allowed system.slice"], "0")
            t.equal("killed: heavy.service", k3["freezer heavy.service"], "frozen")
        doc = t.json("status-3", rcs=(4,))
        if doc is not None:
            t.equal("status after the kill: needs_recovery", doc.get("needs_recovery"), True)
        doc = t.json("recover-3")
        if doc is not None:
            t.equal("recover: ok", doc.get("ok"), True)
            t.equal("recover: host_intact", doc.get("host_intact"), True)
            for kind in ("freeze-unit", "allowed-cpus"):
                got = [s.get("state") for s in steps(doc, kind)]
                t.expect(got and all(s == "reverted" for s in got), f"recover: {kind} steps {got}")
        rec = facts(t, "recovered-3")
        if b2 is not None and rec is not None:
            check_restored(t, "recovered", b2, rec)
        notes.append("killed at " + re.sub(r".* last=", "", killed[0]).replace("_", " ") + ", recovered")
    t.log.notes.append("; ".join(notes))
