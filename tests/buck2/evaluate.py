#!/usr/bin/env python3
"""Evaluate a cell written by `sysgen buck2` with starlark-rust (PyPI's
starlark-pyo3, the interpreter Buck2 embeds) against stand-ins for the
prelude (prelude_standins.bzl), for one configuration the toolchain
selects on, and print what it declared as JSON:

    evaluate.py CELL CONFIG    # CONFIG: sysroot-crate | build-script | DEFAULT

{"rules": [{"kind", "name", "attrs"}...], "toolchain": {...}} where
"toolchain" is the RustToolchainInfo that toolchain.bzl's rule returns for
the toolchain target `:rust` in that configuration. Any attribute the
prelude does not declare, any wrong type, a label or sub-target that does
not resolve, or a source file that is not in the cell fails (exit 1, the
reason on stderr)."""
import json
import os
import sys

import starlark as sl

HERE = os.path.dirname(os.path.abspath(__file__))
CELL, CONFIG = sys.argv[1], sys.argv[2]
DIALECT = sl.Dialect.extended()
GLOBALS = sl.Globals.extended_by([
    sl.LibraryExtension.StructType,
    sl.LibraryExtension.EnumType,
    sl.LibraryExtension.RecordType,
    sl.LibraryExtension.Typing,
])
STANDINS = open(os.path.join(HERE, "prelude_standins.bzl")).read()

recorded = []


def record(kind, name, attrs):
    recorded.append({"kind": kind, "name": name, "attrs": attrs})


def module_with_standins():
    m = sl.Module()
    m.add_callable("_record", record)
    m["CONFIG"] = CONFIG
    sl.eval(m, sl.parse("prelude_standins.bzl", STANDINS, DIALECT), GLOBALS, None)
    return m


def evaluate(path, text, extra=None):
    m = module_with_standins()
    for k, v in (extra or {}).items():
        m[k] = v
    sl.eval(m, sl.parse(path, text, DIALECT), GLOBALS, sl.FileLoader(load))
    return m


def load(name):
    if name in ("@prelude//rust:cargo_buildscript.bzl", "@prelude//rust:rust_toolchain.bzl", "@prelude//rust/tools:tool_rules.bzl"):
        return module_with_standins().freeze()
    if name == ":toolchain.bzl":
        path = os.path.join(CELL, "toolchain.bzl")
        return evaluate(path, open(path).read()).freeze()
    raise SystemExit(f"load() of {name}: not something a sysgen cell may load")


def fail(msg):
    print(f"evaluate.py: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    try:
        evaluate(os.path.join(CELL, "BUCK"), open(os.path.join(CELL, "BUCK")).read())
    except sl.StarlarkError as e:
        fail(str(e))
    rules = {r["name"]: r for r in recorded}
    if len(rules) != len(recorded):
        fail("two rules share a name")
    # Every label and sub-target resolves within the cell.
    subtargets = {"buildscript_run": {"out_dir", "rustc_flags"}}

    def resolve(where, label):
        if not label.startswith(":"):
            fail(f"{where}: {label} is outside the cell")
        name, _, sub = label[1:].partition("[")
        if name not in rules:
            fail(f"{where}: {label} names no rule")
        if sub:
            sub = sub.rstrip("]")
            if sub not in subtargets.get(rules[name]["kind"], set()):
                fail(f"{where}: {rules[name]['kind']} {name} has no sub-target [{sub}]")

    def macros(where, value):
        # A `$(` after an odd number of backslashes is escaped (Buck2's
        # macro syntax): literal up to its balancing `)`.
        rest = value
        while "$(" in rest:
            start = rest.index("$(")
            slashes = len(rest[:start]) - len(rest[:start].rstrip("\\"))
            if slashes % 2 == 1:
                depth, i = 1, start + 2
                while i < len(rest) and depth:
                    depth += {"(": 1, ")": -1}.get(rest[i], 0)
                    i += 1
                rest = rest[i:]
                continue
            end = rest.index(")", start)
            word, _, arg = rest[start + 2:end].partition(" ")
            if word != "location":
                fail(f"{where}: macro $({word} …) is not one sysgen writes")
            resolve(where, arg)
            rest = rest[end + 1:]

    for r in recorded:
        a = r["attrs"]
        where = f"{r['kind']} {r['name']}"
        for key in ("deps",):
            for d in a.get(key, []):
                resolve(where, d)
        for d in a.get("named_deps", {}).values():
            resolve(where, d)
        for key in ("actual", "platform", "buildscript_rule", "constraint_setting", "compiler", "rustdoc", "clippy_driver", "rustc_cfg"):
            if isinstance(a.get(key), str):
                resolve(where, a[key])
        for v in a.get("constraint_values", []):
            resolve(where, v)
        for v in a.get("rustc_flags", []):
            macros(where, v)
        for v in a.get("env", {}).values():
            macros(where, v)
        for src in a.get("srcs", []):
            if not os.path.isfile(os.path.join(CELL, src)):
                fail(f"{where}: source {src} is not in the cell")
        if "crate_root" in a and a["crate_root"] not in a.get("srcs", []):
            fail(f"{where}: crate_root {a['crate_root']} is not among its srcs")
        if a.get("local_manifest_dir") and not os.path.isdir(os.path.join(CELL, a["local_manifest_dir"])):
            fail(f"{where}: local_manifest_dir {a['local_manifest_dir']} is not a directory of the cell")
    # The toolchain this configuration gets, from toolchain.bzl's own rule.
    chains = [r for r in recorded if "_sysgen_rust_toolchain_impl" in r["kind"]]
    if len(chains) != 1:
        fail(f"{len(chains)} sysgen_rust_toolchain targets")
    t = chains[0]["attrs"]
    for d in (t.get("sysroot") or {}).values():
        resolve("toolchain sysroot", d)
    call = (
        "RESULT = _sysgen_rust_toolchain_impl(struct(attrs = struct("
        "compiler = {RunInfo: RunInfo(args = [COMPILER])}, "
        "rustdoc = {RunInfo: RunInfo(args = [RUSTDOC])}, "
        "clippy_driver = {RunInfo: RunInfo(args = [CLIPPY])}, "
        "default_edition = EDITION, extra_rustc_flags = EXTRA, "
        "sysroot = SYSROOT, panic_runtime = PANIC, rustc_target_triple = TRIPLE)))[1]\n"
    )
    path = os.path.join(CELL, "toolchain.bzl")
    try:
        m = evaluate(path, open(path).read() + "\n" + call, {
            "COMPILER": t["compiler"],
            "RUSTDOC": t["rustdoc"],
            "CLIPPY": t["clippy_driver"],
            "EDITION": t["default_edition"],
            "EXTRA": t.get("extra_rustc_flags", []),
            "SYSROOT": t.get("sysroot"),
            "PANIC": t["panic_runtime"],
            "TRIPLE": t.get("rustc_target_triple"),
        })
        info = sl.eval(m, sl.parse("result", "RESULT", DIALECT), GLOBALS, None)
    except sl.StarlarkError as e:
        fail(str(e))
    print(json.dumps({"config": CONFIG, "rules": recorded, "toolchain": info}, indent=1, sort_keys=True))


main()
