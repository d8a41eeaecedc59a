#!/usr/bin/env python3
"""Fails when modules of a crate import each other in a circle (a -> b -> a, or longer).

Edges are the `crate::`, `super::` and `self::` paths a module's non-test code names, resolved to
the deepest module file that exists. A parent declaring its children (`mod x;`, `x::...`) is not
an edge, so the usual split of one type's impl blocks over child files passes; what fails is
siblings (or cousins) that need each other, which then belong in one file or share a third.

Usage: check_module_cycles.py SRC_DIR [SRC_DIR ...]
"""
import os
import re
import sys


def modules(root):
    mods = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            parts = os.path.relpath(path, root)[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib"):
                parts = parts[:-1]
            with open(path, encoding="utf-8") as fh:
                mods["::".join(parts)] = fh.read()
    return mods


def resolve(mods, current, path):
    segs = path.split("::")
    if segs[0] == "crate":
        base, segs = [], segs[1:]
    else:
        base = current.split("::") if current else []
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
    for i in range(len(segs), -1, -1):
        name = "::".join(base + segs[:i])
        if name in mods:
            return name
    return None


def cycles(mods):
    edges = {m: set() for m in mods}
    for m, src in mods.items():
        if m.split("::")[-1] == "tests":
            continue
        src = re.sub(r"#\[cfg\(test\)\]\s*mod tests[\s\S]*", "", src)
        for p in re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", src):
            t = resolve(mods, m, p)
            if t is not None and t != m:
                edges[m].add(t)
    # Tarjan's strongly connected components.
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(mods):
        if v not in index:
            visit(v)
    return out


def main():
    failed = False
    for root in sys.argv[1:]:
        if not os.path.isdir(root):
            sys.exit(f"{root}: no such source folder")
        for comp in cycles(modules(root)):
            failed = True
            print(f"{root}: modules import each other in a circle: {' <-> '.join(comp)}")
    if failed:
        sys.exit(1)
    print(f"no module import circles in {len(sys.argv) - 1} crates")


if __name__ == "__main__":
    main()
