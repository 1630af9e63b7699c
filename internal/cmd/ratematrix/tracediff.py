#!/usr/bin/env python3
"""Which cells of the traced matrix a change touched, against a base commit.

    internal/cmd/ratematrix/tracediff.py BASE     # e.g. HEAD, or main~3

For each golden trace (provision/pace/testdata/trace/r<rate>.txt) it names the cells whose
section ("== cell: limit" and the 429s under it) differs from BASE's, and for table.md every
cell whose line changed, with its 429s and wall before and after, and the count of cells
missed. A change meant to touch some cells only shows here that it did. Run from anywhere in
the repository, after `go test ./provision/pace -run Traces -update`.
"""
import subprocess
import sys

TRACE = "provision/pace/testdata/trace/"


def git_show(base, path):
    return subprocess.run(["git", "show", f"{base}:{path}"], capture_output=True, text=True).stdout


def sections(text):
    out, name = {}, None
    for line in text.splitlines():
        if line.startswith("== "):
            name = line.split(":")[0][3:]
            out[name] = []
        elif name:
            out[name].append(line)
    return out


def table(text):
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and "/s |" in line:
            f = [x.strip() for x in line.strip().strip("|").split("|")]
            rows[(f[0], f[1])] = f
    return rows


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip()
    for rate in ["r1", "r5", "r20", "r50", "r100"]:
        path = TRACE + rate + ".txt"
        old = sections(git_show(base, path))
        new = sections(open(f"{top}/{path}").read())
        changed = [k for k in new if old.get(k) != new[k]]
        print(f"{rate}: " + (" ".join(changed) if changed else "unchanged"))
    old = table(git_show(base, TRACE + "table.md"))
    new = table(open(f"{top}/{TRACE}table.md").read())
    missed = lambda t: sum(1 for f in t.values() if f[-1] == "missed")
    print(f"table.md: missed {missed(old)} of {len(old)} -> {missed(new)} of {len(new)}")
    for k, f in new.items():
        if k in old and old[k] != f:
            mark = "" if old[k][-1] == f[-1] else ("  NOW MET" if f[-1] == "met" else "  NOW MISSED")
            print(f"  {k[0]:6} {k[1]:30} 429s {old[k][3]:>12} -> {f[3]:>12}  wall {old[k][4]} -> {f[4]}{mark}")


if __name__ == "__main__":
    main()
