# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 04-twenty-cycles: every attach and release of the 20 cycles, and the
timeline of the last one."""

CYCLES = 20


def check(t):
    attach_ms, release_ms = [], []
    last = None
    for i in range(1, CYCLES + 1):
        doc = t.json(f"attach-{i}")
        if doc is None:
            break
        t.equal(f"cycle {i}: attach ok", doc.get("ok"), True)
        t.expect(all(s.get("state") in ("done", "skipped") for s in doc.get("steps", [])),
                 f"cycle {i}: an attach step is neither done nor skipped")
        attach_ms.append(t.log.blocks[f"attach-{i}"].ms)
        rel = t.json(f"release-{i}")
        if rel is None:
            break
        t.equal(f"cycle {i}: release ok", rel.get("ok"), True)
        t.expect(all(s.get("state") in ("reverted",) or s.get("kind") == "check-holders"
                     for s in rel.get("steps", [])), f"cycle {i}: a release step was not reverted")
        release_ms.append(t.log.blocks[f"release-{i}"].ms)
        last = (doc, rel)
    t.equal("cycles completed", len(release_ms), CYCLES)
    if last:
        doc, rel = last
        t.log.notes.append(f"cycle {len(release_ms)} attach timeline:")
        t.log.notes.extend(f"  {s['index']:2} {s['kind']:<18} {' '.join(s['args']):<40} {s['ms']:7.1f} ms"
                           for s in doc["steps"] if s.get("state") == "done")
        t.log.notes.append(f"cycle {len(release_ms)} release timeline:")
        t.log.notes.extend(f"  {s['index']:2} {s['kind']:<18} {' '.join(s['args']):<40} {s['ms']:7.1f} ms"
                           for s in reversed(rel["steps"]) if s.get("state") == "reverted")
    if attach_ms and None not in attach_ms + release_ms:
        t.log.notes.append(f"attach (whole command) min/median/max: {min(attach_ms)}/{sorted(attach_ms)[len(attach_ms) // 2]}"
                           f"/{max(attach_ms)} ms; release: {min(release_ms)}/"
                           f"{sorted(release_ms)[len(release_ms) // 2]}/{max(release_ms)} ms")
