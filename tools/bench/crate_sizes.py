#!/usr/bin/env python3
"""Code size per crate of built (unstripped) binaries, like `cargo bloat --crates`, but for
binaries cargo-bloat cannot build itself: the Lambda bootstraps as tools/build-functions.sh
builds them (five packages in one cargo invocation, so with the features unified as deployed,
cross-compiled for arm64).

  CARGO_PROFILE_LAMBDA_STRIP=none tools/build-functions.sh     # keeps the symbol tables
  tools/bench/crate_sizes.py target/lambda/*/bootstrap          # one table per binary
  tools/bench/crate_sizes.py -n 0 --markdown target/lambda/quote-api/bootstrap

Each function symbol of `.text` (llvm-nm, demangled, with its size) is attributed to a crate
by the path of its name: `hashbrown::raw::RawTable<T>::insert` to hashbrown (the crate that
defines it, as cargo-bloat does, whichever crate instantiated the generic);
`<Type as Trait>::f` to Type's crate unless that is a standard crate (then Trait's); C symbols
by prefix (ring, SQLite, mimalloc), else "[C/other]". core, alloc, std and the crates std is
built from (gimli, addr2line, ...) are "std". Like cargo-bloat's, the result is a heuristic
(inlined code counts where it was inlined). The section table (`llvm-size -A`) is printed
below: the file also holds read-only data, unwind tables and relocations.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

STD = {"std", "core", "alloc", "compiler_builtins", "panic_unwind", "panic_abort", "std_detect",
       "rustc_demangle", "addr2line", "gimli", "miniz_oxide", "object", "memchr_std",
       "adler2", "unwind", "hashbrown_std"}
C_PREFIXES = [("ring_core_", "ring"), ("GFp_", "ring"), ("aws_lc_", "aws_lc_sys"),
              ("sqlite3", "libsqlite3_sys"), ("mi_", "mimalloc"), ("_mi_", "mimalloc")]
HASH = re.compile(r"::h[0-9a-f]{16}$")
# Rust's legacy mangling escapes, which llvm-nm's Itanium demangler leaves in place.
ESCAPES = {"$LT$": "<", "$GT$": ">", "$RF$": "&", "$BP$": "*", "$C$": ",", "$LP$": "(",
           "$RP$": ")", "$SP$": "@"}
ESCAPE = re.compile(r"\$(?:LT|GT|RF|BP|C|LP|RP|SP|u[0-9a-f]{1,6})\$")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def tool(*names: str) -> str:
    for name in names:
        if shutil.which(name):
            return name
    raise SystemExit(f"needs one of {', '.join(names)} (Debian package llvm)")


def split_qualified(inner: str):
    """`A as B` at depth 0 of the angle brackets -> (A, B); else (inner, None)."""
    depth = 0
    for i, ch in enumerate(inner):
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        elif depth == 0 and inner.startswith(" as ", i):
            return inner[:i], inner[i + 4:]
    return inner, None


def first_crate(path: str):
    path = path.lstrip("&*[( ").removeprefix("mut ").removeprefix("const ").removeprefix("dyn ")
    m = IDENT.match(path)
    if not m or not path[m.end():].startswith("::"):
        return None  # a primitive, a generic parameter or a local name
    return m.group(0)


def unescape(name: str) -> str:
    """`_$LT$F$u20$as$u20$axum..handler..Handler$GT$` -> `<F as axum::handler::Handler>`."""
    if "$" not in name and ".." not in name:
        return name
    parts = []
    for segment in name.split("::"):
        if segment.startswith("_$"):
            segment = segment[1:]
        segment = ESCAPE.sub(lambda m: ESCAPES.get(m.group(0)) or chr(int(m.group(0)[2:-1], 16)),
                             segment)
        parts.append(segment.replace("..", "::"))
    return "::".join(parts)


def crate_of(name: str) -> str:
    name = unescape(HASH.sub("", name))
    if name.startswith("<"):
        depth, end = 0, None
        for i, ch in enumerate(name):
            if ch == "<":
                depth += 1
            elif ch == ">":
                depth -= 1
                if depth == 0:
                    end = i
                    break
        inner = name[1:end] if end else name[1:]
        subject, trait = split_qualified(inner)
        crate = first_crate(subject)
        if crate is None or crate in STD:
            crate = first_crate(trait) if trait else crate
            if crate is None:
                crate = first_crate(subject) or "std"
    elif "::" in name:
        crate = first_crate(name) or "[unknown]"
    else:
        for prefix, owner in C_PREFIXES:
            if name.startswith(prefix):
                return owner
        return "[C/other]"
    return "std" if crate in STD else crate


def text_by_crate(binary: Path) -> tuple[Counter, int]:
    out = subprocess.run(
        [tool("llvm-nm", "llvm-nm-16", "llvm-nm-15", "llvm-nm-14"), "--print-size", "--size-sort",
         "--demangle", "--defined-only", str(binary)],
        check=True, capture_output=True, text=True).stdout
    sizes = Counter()
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4 or parts[2] not in "tTwW":
            continue
        sizes[crate_of(parts[3])] += int(parts[1], 16)
    return sizes, sum(sizes.values())


def sections(binary: Path) -> list:
    out = subprocess.run([tool("llvm-size", "llvm-size-16", "llvm-size-15", "llvm-size-14"),
                          "-A", str(binary)], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit():
            rows.append((parts[0], int(parts[1])))
    return rows


def kib(n: int) -> str:
    return f"{n / 1024:,.1f} KiB" if n < 1024 * 1024 else f"{n / 1048576:,.2f} MiB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("binaries", nargs="+", type=Path)
    parser.add_argument("-n", type=int, default=30, help="crates to show (0: all)")
    parser.add_argument("--markdown", action="store_true", help="markdown tables")
    args = parser.parse_args()
    for binary in args.binaries:
        sizes, total = text_by_crate(binary)
        if total == 0:
            raise SystemExit(f"{binary}: no symbols (stripped? build with "
                             "CARGO_PROFILE_LAMBDA_STRIP=none)")
        text = dict(sections(binary)).get(".text", total)
        print(f"\n{binary}: file {binary.stat().st_size:,} B, .text {text:,} B"
              f" ({total:,} B in sized function symbols)")
        shown = sizes.most_common(args.n or None)
        rest = total - sum(n for _, n in shown)
        if args.markdown:
            print("\n| crate | .text | share |\n|---|---|---|")
            for crate, n in shown:
                print(f"| {crate} | {kib(n)} | {100 * n / total:.1f} % |")
            if rest:
                print(f"| {len(sizes) - len(shown)} more crates | {kib(rest)} |"
                      f" {100 * rest / total:.1f} % |")
        else:
            for crate, n in shown:
                print(f"  {100 * n / total:5.1f} %  {kib(n):>12}  {crate}")
            if rest:
                print(f"  {100 * rest / total:5.1f} %  {kib(rest):>12}  ({len(sizes) - len(shown)} more crates)")
        print("  sections: " + ", ".join(f"{name} {kib(n)}" for name, n in sections(binary)
                                         if n >= 16 * 1024))


if __name__ == "__main__":
    main()
