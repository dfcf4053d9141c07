#!/usr/bin/env python3
"""The layering of the workspace: no module cycle inside any crate, crates depending one way.

1. Module cycles inside each crate.

Why our own ~150 lines: `cargo modules dependencies --acyclic` answers the same question but
pulls rust-analyzer into CI (a 15-minute build on two cores). This reads the source as text:
it follows `mod x;` declarations from each crate root (lib.rs, main.rs, src/bin/*.rs), skips
modules declared under `#[cfg(test)]`, and takes every `crate::…`, `super::…` and `self::…`
path (inside `use` groups too) as a dependency of the module that writes it. A dependency
between two modules counts between the children of their closest common ancestor, the way a
reader sees it: `quotes::service` naming `crate::orders::X` makes `quotes` depend on `orders`.
A cycle among the children of any module is reported with the file and line of each edge.

2. The crate rules (RULES below), from `cargo metadata --no-deps` (no build): which workspace
crates each crate may depend on, dev-dependencies included where the rule says so.

Usage: tools/layering.py [crate-dir ...]   (default: every workspace member, and the crate rules)
Exits 1 when a cycle exists or a rule is broken.
"""
import json
import re
import subprocess
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


# crate -> the workspace crates it may depend on (normal and build dependencies). A crate not
# named here may depend on any crate except those whose rule says nothing may (NOBODY_USES).
RULES = {
    # Pure and leaf crates: no workspace crate below them.
    "q2c-model": set(),
    "q2c-runtime": set(),
    "q2c-testkit": set(),
    "q2c-wire": {"q2c-model"},
    # The use-cases and their ports: the domain only, no adapter.
    "q2c-service": {"q2c-model", "q2c-wire"},
    # The HTTP surface, outbound HTTP and the contract suites sit on the use-cases only.
    "q2c-api": {"q2c-model", "q2c-wire", "q2c-service"},
    "q2c-callbacks": {"q2c-model", "q2c-service"},
    "q2c-downstream": {"q2c-model", "q2c-service"},
    "q2c-contract": {"q2c-model", "q2c-service"},
    # Adapters: the use-cases' ports, never the HTTP surface or each other.
    "q2c-local": {"q2c-model", "q2c-service", "q2c-callbacks"},
    "q2c-aws": {"q2c-model", "q2c-service", "q2c-callbacks", "q2c-runtime"},
}
# Crates no other crate may depend on, not even for tests: the CLI is a binary's front end.
NOBODY_USES = {"q2c"}
# Lambda functions never carry SQLite or the local runtime (normal dependencies).
LAMBDA_NEVER = {"q2c-local", "q2c-embedded"}


def crate_rules():
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    broken = []
    for package in meta["packages"]:
        name = package["name"]
        for dep in package["dependencies"]:
            if not dep.get("path"):
                continue
            normal = dep["kind"] in (None, "build")
            if dep["name"] in NOBODY_USES:
                broken.append(f"{name} depends on {dep['name']} (nothing may)")
            elif normal and name in RULES and dep["name"] not in RULES[name]:
                broken.append(f"{name} depends on {dep['name']} (allowed: {sorted(RULES[name]) or 'none'})")
            elif normal and name.startswith("q2c-fn-") and dep["name"] in LAMBDA_NEVER:
                broken.append(f"{name} (a Lambda function) depends on {dep['name']}")
    for line in broken:
        print("crate rule: " + line)
    return len(broken)


def members():
    manifest = tomllib.loads((ROOT / "Cargo.toml").read_text())
    return [ROOT / m for m in manifest["workspace"]["members"]]


def self_test():
    """The checker checked: a crate with known cycles and known non-edges."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        (src / "c").mkdir(parents=True)
        files = {
            "lib.rs": "mod a;\nmod b;\nmod c;\npub use a::Thing;\n#[cfg(test)]\nmod tests;\n",
            # a → b through a `use` group; b → a only through the crate-root re-export.
            "a.rs": "use crate::{b::{Other}, c};\npub struct Thing;\n",
            "b.rs": "// crate::c::x in a comment is no edge\nfn f() -> crate::Thing { todo!() }\n",
            # c's children: d → e by `super::e`, e → d only from a test module (not an edge).
            "c/mod.rs": "mod d;\nmod e;\n",
            "c/d.rs": "use super::e::E;\n",
            "c/e.rs": "pub struct E;\n#[cfg(test)]\nmod tests {\n    use super::super::d;\n}\n",
            "tests.rs": "use crate::b;\n",
        }
        for name, text in files.items():
            (src / name).write_text(text)
        crate = Crate(src)
        crate.load((), src / "lib.rs", True)
        crate.resolve_all()
        found = {(parent, tuple(c[-1] for c in comp)) for parent, comp, _ in cycles(crate)}
        assert found == {((), ("a", "b"))}, found
    print("self-test passed")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    dirs = [Path(a).resolve() for a in sys.argv[1:]] or members()
    bad = 0 if sys.argv[1:] else crate_rules()
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
        print(f"{bad} module cycle(s) or crate rule(s) broken")
        return 1
    print(f"no module cycles in {len(dirs)} crates" + ("" if sys.argv[1:] else "; crate rules kept"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
