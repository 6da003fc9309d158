#!/usr/bin/env python3
"""check_layers.py BUILD_DIR SOURCE_DIR: the layers hold by construction.

For each wing, a probe file is compiled with exactly the flags the build gives
that wing's sources (from BUILD_DIR/compile_commands.json), as if it sat in the
wing's folder (-iquote the folder). Each header the layers allow must compile;
each forbidden one (a layer above, a sibling layer, another wing's private
header) must fail with "No such file". A last check refuses #include paths
with a '/', which would step around the include paths.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

BUILD, SOURCE = sys.argv[1], os.path.realpath(sys.argv[2])

# wing folder -> (allowed headers, forbidden headers)
RULES = {
    "core": (["nsr_core.h", "json.h", "fileio.h"],
             ["nsr_symbolic.h", "nsr_lang.h", "nsr_neural.h", "nsr_store.h", "nsr.h"]),
    "symbolic/lang": (["nsr_core.h", "nsr_lang.h", "lang_internal.h"],
                      ["nsr_neural.h", "nsr_store.h", "nsr_tools.h", "space.h", "model.h", "nsr.h"]),
    "symbolic/concepts": (["nsr_core.h", "nsr_symbolic.h", "nsr_space.h", "space.h"],
                          ["nsr_neural.h", "nsr_learn.h", "lang_internal.h", "model.h", "nsr.h"]),
    "neural/transformer": (["nsr_core.h", "nsr_neural.h", "model.h"],
                           ["nsr_symbolic.h", "nsr_lang.h", "nsr_space.h", "nsr_store.h",
                            "space.h", "lang_internal.h", "nsr.h"]),
    "bridge/store": (["nsr.h", "nsr_store.h"], ["model.h", "space.h", "lang_internal.h", "cli.h",
                                                "tools_schema.h"]),
    "bridge/learn": (["nsr.h", "nsr_learn.h"], ["model.h", "space.h", "cli.h", "tools_schema.h"]),
    "bridge/extract": (["nsr.h", "nsr_extract.h"], ["model.h", "space.h", "cli.h", "tools_schema.h"]),
    "bridge/report": (["nsr.h", "nsr_report.h"], ["model.h", "space.h", "cli.h"]),
    "bridge/ffi": (["nsr_ffi.h", "nsr_lang.h"], ["lang_internal.h", "model.h", "cli.h"]),
    "bridge/tools": (["nsr.h", "nsr_tools.h", "tools_schema.h"], ["model.h", "space.h", "cli.h"]),
    "bridge/cli": (["nsr.h", "nsr_tools.h", "cli.h"], ["model.h", "space.h", "lang_internal.h",
                                                      "tools_schema.h"]),
}


def wing_command(entries, wing):
    """The compile command of one product source file of `wing`."""
    prefix = os.path.join(SOURCE, wing) + os.sep
    for e in entries:
        path = os.path.realpath(os.path.join(e["directory"], e["file"]))
        if path.startswith(prefix) and os.path.dirname(path) == prefix.rstrip(os.sep):
            return e
    raise SystemExit(f"check_layers: no compile command for a source in {wing}/")


def probe_flags(entry):
    """The entry's flags without its input, output and dependency-file parts."""
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MQ", "-MF", "-MT"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or a.endswith((".c",)):
            continue
        out.append(a)
    return out


def compiles(entry, wing, header, tmp):
    probe = os.path.join(tmp, "probe.c")
    with open(probe, "w") as f:
        f.write(f'#include "{header}"\nint nsr_layers_probe(void);\n')
    cmd = probe_flags(entry) + ["-iquote", os.path.join(SOURCE, wing), "-fsyntax-only", probe]
    r = subprocess.run(cmd, cwd=entry["directory"], capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def check_paths():
    """No #include "a/b.h": every project include is found by the layers' paths."""
    bad = []
    pattern = re.compile(r'^\s*#\s*include\s+"([^"]*/[^"]*)"', re.M)
    for top in ("core", "symbolic", "neural", "bridge"):
        for root, _, files in os.walk(os.path.join(SOURCE, top)):
            for name in files:
                if name.endswith((".c", ".h")):
                    path = os.path.join(root, name)
                    for m in pattern.finditer(open(path, encoding="utf-8").read()):
                        bad.append(f"{os.path.relpath(path, SOURCE)}: #include \"{m.group(1)}\"")
    return bad


def main():
    entries = json.load(open(os.path.join(BUILD, "compile_commands.json")))
    failures, checked = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for wing, (allowed, forbidden) in RULES.items():
            entry = wing_command(entries, wing)
            for h in allowed:
                ok, err = compiles(entry, wing, h, tmp)
                checked += 1
                if not ok:
                    failures.append(f"{wing}: allowed header {h} does not compile:\n{err}")
            for h in forbidden:
                ok, err = compiles(entry, wing, h, tmp)
                checked += 1
                if ok:
                    failures.append(f"{wing}: forbidden header {h} compiles")
                elif "No such file" not in err:
                    failures.append(f"{wing}: {h} fails for another reason than the layers:\n{err}")
    failures += check_paths()
    for f in failures:
        print("FAIL", f)
    print(f"{checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
