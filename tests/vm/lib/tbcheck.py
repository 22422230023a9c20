#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side judge of one testbed VM run (called by run-scenarios).

    tbcheck.py --log LOG --status QEMU_EXIT --timeout SECONDS [--checker scenarios/NN-name.py]

Reads the guest's serial console log (the line protocol of guest/lib.sh), decides PASS or
FAIL and prints TAP comment lines ("# ...") for the runner to put under its "ok"/"not ok"
line. Exit status 0 = pass, 1 = fail.

A scenario passes when the VM finished in time, the guest printed "RESULT PASS", and the
scenario's optional host-side checker (scenarios/NN-name.py, a function check(t) that gets
a Check object) found nothing wrong. Checkers are where JSON output of the tool is judged:
the guest only prints it between markers (busybox has no jq), python3 parses it here and
can say precisely what differed.

On failure the report holds: what failed, the failed steps with their output, the tool
output blocks the checker looked at, the guest's final state (PCI devices with drivers and
IOMMU groups, consoles, framebuffers, modules), the interesting part of dmesg, and the path
of the full log.
"""

import argparse
import importlib.util
import json
import re
import sys

MAX_BLOCK_LINES = 60
sys.dont_write_bytecode = True  # loading a checker must not leave __pycache__ in the source tree


class Block:
    def __init__(self, name):
        self.name = name
        self.lines = []
        self.rc = None  # None: the block never ended (the guest died while printing it)
        self.ms = None

    @property
    def text(self):
        return "\n".join(self.lines) + ("\n" if self.lines else "")


class Step:
    def __init__(self, name, rc, ms, t, failed):
        self.name, self.rc, self.ms, self.t, self.failed = name, rc, ms, t, failed
        self.output = []


STEP_RE = re.compile(r"^STEP (.+?) rc=(\d+) ms=(-?\d+) t=(-?\d+)( FAILED)?$")
BEGIN_RE = re.compile(r"^TB-BEGIN (\S+)$")
END_RE = re.compile(r"^TB-END (\S+) rc=(\d+)(?: ms=(\d+))?$")


class Log:
    """The guest's console output, parsed into steps, blocks, facts, notes and the verdict."""

    def __init__(self, text):
        self.lines = text.replace("\r", "").split("\n")
        self.blocks = {}
        self.steps = []
        self.facts = []
        self.notes = []
        self.result = None
        self.exit_status = None
        self.started = False
        block = step = None
        for line in self.lines:
            if block is not None:
                m = END_RE.match(line)
                if m and m.group(1) == block.name:
                    block.rc = int(m.group(2))
                    block.ms = int(m.group(3)) if m.group(3) else None
                    block = None
                else:
                    block.lines.append(line)
                continue
            m = BEGIN_RE.match(line)
            if m:
                block = self.blocks[m.group(1)] = Block(m.group(1))
                step = None
                continue
            m = STEP_RE.match(line)
            if m:
                step = Step(m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)), bool(m.group(5)))
                self.steps.append(step)
                continue
            if step is not None and line.startswith("    | "):
                step.output.append(line[6:])
                continue
            step = None
            if line.startswith("FACT "):
                self.facts.append(line.split()[1:])
            elif line.startswith("NOTE "):
                self.notes.append(line[5:])
            elif line.startswith("RESULT "):
                self.result = line[7:]
            elif line.startswith("TB: running "):
                self.started = True
            elif line.startswith("TB: test exit status "):
                self.exit_status = int(line.split()[-1])

    def fact(self, key, default=None):
        """The words after "FACT key", joined, of the first such line."""
        for f in self.facts:
            if f and f[0] == key:
                return " ".join(f[1:])
        return default

    def pci(self):
        """{bdf: {vendor, device, class, driver, group, boot_vga}} as sysfs showed them."""
        out = {}
        for f in self.facts:
            if len(f) >= 2 and f[0] == "pci":
                out[f[1]] = dict(kv.split("=", 1) for kv in f[2:] if "=" in kv)
        return out

    def groups(self):
        """{group number: [bdf, ...]} as /sys/kernel/iommu_groups showed them."""
        return {int(f[1]): sorted(f[2:]) for f in self.facts if len(f) >= 2 and f[0] == "group"}


class Check:
    """What a scenario checker gets: the parsed log plus assertion helpers that collect
    failures instead of stopping at the first one."""

    def __init__(self, log):
        self.log = log
        self.failures = []
        self.count = 0
        self.shown = []  # guest output blocks that failed checks were about
        self.context = None  # the block the checks are about now (set by block() and json())

    def expect(self, cond, msg):
        self.count += 1
        if not cond:
            self.failures.append(msg)
            for n in (self.context, f"{self.context}.stderr"):
                if n in self.log.blocks and n not in self.shown:
                    self.shown.append(n)
        return bool(cond)

    def equal(self, what, got, want):
        return self.expect(got == want, f"{what}: got {got!r}, want {want!r}")

    def fail(self, msg):
        self.expect(False, msg)

    def block(self, name):
        """The output block name, or None (a failure) when the guest printed none. Checks
        that fail after this call show the block in the report."""
        self.context = name
        b = self.log.blocks.get(name)
        if b is None:
            self.fail(f"the guest printed no '{name}' output (the scenario did not get that far)")
            return None
        if b.rc is None:
            self.fail(f"'{name}' output was cut off (no TB-END)")
        return b

    def json(self, name, rcs=(0,)):
        """Parses block name as JSON; checks its exit status is in rcs. None on failure."""
        b = self.block(name)
        if b is None or b.rc is None:
            return None
        self.expect(b.rc in rcs, f"'{name}' exited with {b.rc}, want {' or '.join(map(str, rcs))}")
        try:
            return json.loads(b.text)
        except ValueError as e:
            self.fail(f"'{name}' is not valid JSON: {e}")
            return None


def dmesg_digest(lines):
    """The dmesg lines worth reading in a failure report: problems, then the last lines."""
    bad = [ln for ln in lines
           if (re.search(r"WARNING|BUG|Oops|Call Trace", ln) or re.search(r"error|fail|refus|timed out", ln, re.I))
           and not re.search(r"TSC calibration failed|This is not a bug|[Cc]ommand line:", ln)]
    return bad[:25], lines[-20:]


def report(log, check, args):
    out = []
    for f in check.failures:
        out.append(f"FAIL: {f}")
    for s in log.steps:
        if s.failed:
            out.append(f"failed step: {s.name} rc={s.rc} ({s.ms} ms)")
            out.extend("  | " + ln for ln in s.output[:MAX_BLOCK_LINES])
    for name in check.shown:
        b = log.blocks[name]
        out.append(f"--- guest output '{name}' (exit status {b.rc}):")
        out.extend("  " + ln for ln in b.lines[:MAX_BLOCK_LINES])
        if len(b.lines) > MAX_BLOCK_LINES:
            out.append(f"  ... ({len(b.lines) - MAX_BLOCK_LINES} more lines in the log)")
    ev = log.blocks.get("evidence")
    if ev is not None:
        out.append("--- guest state at the end:")
        i = ev.lines.index("dmesg:") if "dmesg:" in ev.lines else len(ev.lines)
        out.extend("  " + ln for ln in ev.lines[:i])
        bad, tail = dmesg_digest(ev.lines[i + 1:])
        if bad:
            out.append("--- dmesg, lines that look like problems:")
            out.extend(bad)
        out.append("--- dmesg, last lines:")
        out.extend(tail)
    else:
        out.append("--- last lines of the console (no evidence block: the guest did not finish):")
        out.extend("  " + ln for ln in [ln for ln in log.lines if ln.strip()][-40:])
    out.append(f"log: {args.log}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--status", type=int, required=True, help="exit status of the VM (timeout's)")
    ap.add_argument("--timeout", type=int, default=0)
    ap.add_argument("--checker")
    args = ap.parse_args()
    with open(args.log, encoding="utf-8", errors="replace") as f:
        log = Log(f.read())
    t = Check(log)

    if args.status in (124, 137):
        t.fail(f"the VM did not power off within {args.timeout} s and was killed"
               + ("" if log.started else " (the scenario never started)")
               + (" (the scenario was still running)" if log.started and log.exit_status is None else ""))
    elif args.status != 0:
        t.fail(f"QEMU exited with status {args.status}")
    elif not log.started:
        t.fail("the guest never started the scenario (kernel or /init problem?)")
    elif log.exit_status is None:
        t.fail("the scenario did not finish (no exit status)")
    if log.result is not None and log.result != "PASS":
        t.fail(f"guest: RESULT {log.result}")
    elif log.result is None and log.exit_status is not None:
        t.fail(f"the scenario printed no RESULT line (exit status {log.exit_status})")
    if args.checker and log.started:
        spec = importlib.util.spec_from_file_location("checker", args.checker)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
            mod.check(t)
        except Exception as e:  # a broken checker is a failure with a traceback, not a crash
            import traceback
            t.fail(f"checker {args.checker} raised {type(e).__name__}: {e}")
            for ln in traceback.format_exc().splitlines():
                t.failures.append("  " + ln)

    if t.failures:
        lines = report(log, t, args)
    else:
        lines = list(log.notes)
        if args.checker:
            lines.append(f"{t.count} host-side checks passed")
    for ln in lines:
        print(("# " + ln).rstrip())
    return 1 if t.failures else 0


if __name__ == "__main__":
    sys.exit(main())
