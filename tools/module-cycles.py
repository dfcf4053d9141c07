#!/usr/bin/env python3
"""Module cycles inside each crate of the workspace.

Why our own ~150 lines: `cargo modules dependencies --acyclic` answers the same question but
pulls rust-analyzer into CI (a 15-minute build on two cores). This reads the source as text:
it follows `mod x;` declarations from each crate root (lib.rs, main.rs, src/bin/*.rs), skips
modules declared under `#[cfg(test)]`, and takes every `crate::…`, `super::…` and `self::…`
path (inside `use` groups too) as a dependency of the module that writes it. A dependency
between two modules counts between the children of their closest common ancestor, the way a
reader sees it: `quotes::service` naming `crate::orders::X` makes `quotes` depend on `orders`.
A cycle among the children of any module is reported with the file and line of each edge.

Usage: tools/module-cycles.py [crate-dir ...]   (default: every workspace member)
Exits 1 when a cycle exists.
"""
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
MOD_DECL = re.compile(r"^\s*(?P<attrs>(?:#\[[^\]]*\]\s*)*)(?:pub(?:\([^)]*\))?\s+)?mod\s+(?P<name>" + IDENT + r")\s*;", re.M)
USE_STMT = re.compile(r"\buse\s+(?P<tree>(?:crate|super|self)\b[^;]*);", re.S)
PATH = re.compile(r"\b(?P<path>(?:crate|super|self)(?:\s*::\s*(?:" + IDENT + r"))+)")


def strip_comments(text):
    # Line comments first: a doc comment naming `dir/*` must not open a block comment.
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)


def expand_use(tree):
    """`crate::{a::{b, c}, d}` → [crate::a::b, crate::a::c, crate::d]."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, s):
        depth, start, parts = 0, 0, []
        for i, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(s[start:i])
                start = i + 1
        parts.append(s[start:])
        for part in filter(None, parts):
            brace = part.find("{")
            if brace >= 0:
                walk(prefix + part[:brace], part[brace + 1 : part.rfind("}")])
            else:
                out.append(prefix + part.split(" as ")[0])

    walk("", tree)
    return out


class Crate:
    def __init__(self, src_root):
        self.files = {}  # module path tuple -> file
        self.raw = {}  # module path -> list of (path text, line)
        self.reexports = {}  # (module path, item name) -> path text it re-exports
        self.deps = {}  # module path -> list of (target module path, line)

    def load(self, module, file, is_root):
        self.files[module] = file
        text = strip_comments(file.read_text())
        here = file.parent if is_root or file.name == "mod.rs" else file.with_suffix("")
        for m in MOD_DECL.finditer(text):
            if "cfg(test)" in m.group("attrs"):
                continue
            name = m.group("name")
            path_attr = re.search(r'#\[path\s*=\s*"([^"]+)"\]', m.group("attrs"))
            if path_attr:
                child = (file.parent / path_attr.group(1)).resolve()
            else:
                child = here / f"{name}.rs"
                if not child.exists():
                    child = here / name / "mod.rs"
            if child.exists():
                self.load(module + (name,), child, False)
        # Text after a `#[cfg(test)] mod tests {` block is test code: cut it off.
        inline_tests = re.search(r"#\[cfg\(test\)\]\s*(?:pub\s+)?mod\s+" + IDENT + r"\s*\{", text)
        if inline_tests:
            text = text[: inline_tests.start()]
        refs = []
        for m in USE_STMT.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            refs += [(p, line) for p in expand_use(m.group("tree"))]
        for m in PATH.finditer(USE_STMT.sub(lambda u: "\n" * u.group(0).count("\n"), text)):
            refs.append((re.sub(r"\s+", "", m.group("path")), text.count("\n", 0, m.start()) + 1))
        self.raw[module] = refs
        # `pub use a::B;` re-exports: a path through this module to `B` depends on `a`.
        for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]*);", text, re.S):
            for full in expand_use(m.group(1)):
                name = full.split("::")[-1]
                self.reexports[(module, name)] = full

    def resolve_all(self):
        """After every file is loaded: a path may name a module declared later."""
        self.deps = {m: [(self.resolve(m, p), line) for p, line in refs] for m, refs in self.raw.items()}

    def resolve(self, module, path, seen=()):
        parts = path.split("::")
        # `super` in a file module is relative to its parent module.
        base = list(module)
        if parts[0] == "crate":
            base, parts = [], parts[1:]
        while parts and parts[0] in ("super", "self"):
            if parts[0] == "super":
                base = base[:-1]
            parts = parts[1:]
        target = tuple(base)
        for i, p in enumerate(parts):
            if target + (p,) in self.files:
                target += (p,)
                continue
            again = self.reexports.get((target, p))
            if again and target + (again.split("::")[0],) in self.files:
                again = "self::" + again  # `pub use child::Item;`
            if again and (target, p) not in seen and re.match(r"(crate|super|self)\b", again):
                return self.resolve(target, "::".join([again] + parts[i + 1 :]), seen + ((target, p),))
            break
        return target


def cycles(crate):
    """Sibling edges under each parent, then strongly connected components of size > 1."""
    edges = {}
    for module, refs in crate.deps.items():
        for target, line in refs:
            common = 0
            while common < min(len(module), len(target)) and module[common] == target[common]:
                common += 1
            if common == len(module) or common == len(target):
                continue  # to an ancestor or a descendant
            parent = module[:common]
            a, b = module[: common + 1], target[: common + 1]
            edges.setdefault(parent, {}).setdefault(a, {}).setdefault(b, (crate.files[module], line))
    found = []
    for parent, graph in edges.items():
        index, low, stack, on, counter = {}, {}, [], set(), [0]

        def strong(v):
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in graph.get(v, {}):
                if w not in index:
                    strong(w)
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
                    found.append((parent, sorted(comp), graph))

        for v in list(graph):
            if v not in index:
                strong(v)
    return found


def members():
    manifest = tomllib.loads((ROOT / "Cargo.toml").read_text())
    return [ROOT / m for m in manifest["workspace"]["members"]]


def main():
    dirs = [Path(a).resolve() for a in sys.argv[1:]] or members()
    bad = 0
    for crate_dir in dirs:
        src = crate_dir / "src"
        roots = [src / "lib.rs", src / "main.rs", *sorted((src / "bin").glob("*.rs"))]
        for root in filter(Path.exists, roots):
            crate = Crate(src)
            crate.load((), root, True)
            crate.resolve_all()
            for parent, comp, graph in cycles(crate):
                bad += 1
                name = "::".join(("crate",) + parent)
                print(f"cycle in {crate_dir.relative_to(ROOT)} ({root.name}) under {name}: "
                      + " ↔ ".join(c[-1] for c in comp))
                for a in comp:
                    for b, (file, line) in sorted(graph.get(a, {}).items()):
                        if b in comp:
                            print(f"  {a[-1]} → {b[-1]}  ({file.relative_to(ROOT)}:{line})")
    if bad:
        print(f"{bad} module cycle(s)")
        return 1
    print(f"no module cycles in {len(dirs)} crates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
