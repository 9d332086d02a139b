# Stand-ins for the Buck2 prelude's rules, macros and providers that a cell
# from `sysgen buck2` uses: each accepts exactly the attributes (and their
# types) the prelude declares, and fails on anything else. Evaluated by
# starlark-rust (PyPI's starlark-pyo3), the interpreter Buck2 embeds.
#
# Declarations read from facebook/buck2:
#   prelude/decls/rust_rules.bzl        051dad6ee6f137bcfa609723c0f9609080b60af1
#   prelude/decls/rust_common.bzl       0cb052db310b1f8e21eee82dc3f095732e9051dc
#   prelude/rust/cargo_buildscript.bzl  04d327e5bc1231ba81c60f79a3790402d7a2ae02
#   prelude/rust/rust_toolchain.bzl     09b8eb413469c0b320b2a3eb65a63343f7980c6b
#   prelude/rust/build.bzl              001a1a7c3d9024eb7e623eff098a75ccce7f8342
# and the toolchain arrangement of dtolnay/buck2-rustc-bootstrap:
#   toolchains/BUCK                     4b49c0ee0e24e2fe35b9ea2aa60505ca05f83d69
#   toolchains/rust.bzl                 20fe991464f382d72cdd958c51dffbbad4c3a23b
#
# `_record(kind, name, attrs)` and `CONFIG` (the constraint value the
# configuration under evaluation carries, or "DEFAULT") come from the
# Python driver (evaluate.py).

# Attributes every rule takes (Buck2's core).
_COMMON = {
    "compatible_with": "list[label]",
    "default_target_platform": "str",
    "exec_compatible_with": "list[label]",
    "metadata": "any",
    "modifiers": "any",
    "target_compatible_with": "list[label]",
    "tests": "list[label]",
    "visibility": "list[str]",
    "within_view": "list[str]",
}

# _rust_common_attributes (decls/rust_rules.bzl).
_RUST_COMMON = {
    "clippy_configuration": "label",
    "contacts": "list[str]",
    "coverage": "bool",
    "default_platform": "str",
    "flagged_deps": "any",
    "incremental_enabled": "bool",
    "labels": "list[str]",
    "licenses": "list[source]",
    "resources": "any",
    "rustdoc_flags": "list[arg]",
    "separate_debug_info": "bool",
    "use_content_based_paths": "bool",
    "uses_restricted_rustc_flags": "bool",
}

# rust_common.*_arg() (decls/rust_common.bzl) shared by both rules.
_RUST_SOURCES = {
    "crate": "str",
    "crate_root": "str",
    "edition": "str",
    "env": "dict[str,arg]",
    "features": "list[str]",
    "mapped_srcs": "any",
    "rustc_flags": "list[arg]",
    "srcs": "list[source]",
    "srcs_filegroup": "any",
}

_DEPS = {
    "deps": "list[dep]",
    "linker_flags": "list[arg]",
    "link_style": "str",
    "named_deps": "dict[str,dep]",
}

RUST_LIBRARY_ATTRS = _COMMON | _RUST_COMMON | _RUST_SOURCES | _DEPS | {
    "crate_dynamic": "label",
    "doc_deps": "list[dep]",
    "doc_env": "dict[str,arg]",
    "doc_link_style": "str",
    "doc_linker_flags": "list[arg]",
    "doc_named_deps": "dict[str,dep]",
    "doc_remote_execution": "any",
    "doctests": "bool",
    "exported_linker_flags": "list[arg]",
    "exported_post_linker_flags": "list[arg]",
    "include_in_android_merge_map_output": "bool",
    "link_whole": "bool",
    "preferred_linkage": "str",
    "proc_macro": "bool",
    "soname": "str",
    "supports_python_dlopen": "bool",
}

RUST_BINARY_ATTRS = _COMMON | _RUST_COMMON | _RUST_SOURCES | _DEPS | {
    "allow_cache_upload": "bool",
    "anonymous_link_groups": "bool",
    "auto_link_groups": "bool",
    "enable_distributed_thinlto": "bool",
    "extra_dwp_flags": "list[str]",
    "has_content_based_path": "bool",
    "link_group_map": "any",
    "link_group_min_binary_node_count": "any",
    "rpath": "bool",
    "runtime_dependency_handling": "str",
    "transformation_spec": "any",
}

# _cargo_buildscript_rule's settable attributes (prelude/rust/cargo_buildscript.bzl),
# which buildscript_run passes on as **kwargs.
_BUILDSCRIPT_RULE_ATTRS = _COMMON | {
    "env": "dict[str,arg]",
    "features": "list[str]",
    "rustc_cfg": "label",
    "rustc_host_tuple": "label",
    "rustc_link_lib": "bool",
    "rustc_link_search": "bool",
}

CONFIGURED_ALIAS_ATTRS = _COMMON | {
    "actual": "label",
    "fallback_actual": "any",
    "platform": "label",
}

PLATFORM_ATTRS = _COMMON | {
    "constraint_values": "list[label]",
    "deps": "list[label]",
}

CONSTRAINT_SETTING_ATTRS = _COMMON

CONSTRAINT_VALUE_ATTRS = _COMMON | {
    "constraint_setting": "label",
}

def _is_label(v):
    return type(v) == "string" and (v.startswith(":") or "//" in v)

def _is_plain_path(v):
    if type(v) != "string" or v == "" or v.startswith("/") or ":" in v:
        return False
    for part in v.split("/"):
        if part in ("", ".", ".."):
            return False
    return True

def _check_value(where, kind, v):
    if kind == "any":
        return
    if kind == "str":
        if type(v) != "string":
            fail("{}: a string, not {}".format(where, type(v)))
    elif kind == "bool":
        if type(v) != "bool":
            fail("{}: a bool, not {}".format(where, type(v)))
    elif kind in ("label", "dep"):
        if not _is_label(v):
            fail("{}: a target label, not {}".format(where, repr(v)))
    elif kind == "source":
        if not _is_plain_path(v):
            fail("{}: a relative path in normal form, not {}".format(where, repr(v)))
    elif kind == "arg":
        if type(v) != "string":
            fail("{}: a string argument, not {}".format(where, type(v)))
    elif kind.startswith("list[") and kind.endswith("]"):
        if type(v) != "list":
            fail("{}: a list, not {}".format(where, type(v)))
        for i, x in enumerate(v):
            _check_value("{}[{}]".format(where, i), kind[5:-1], x)
    elif kind.startswith("dict[") and kind.endswith("]"):
        key, value = kind[5:-1].split(",")
        if type(v) != "dict":
            fail("{}: a dict, not {}".format(where, type(v)))
        for k, x in v.items():
            _check_value("{} key".format(where), key, k)
            _check_value("{}[{}]".format(where, repr(k)), value, x)
    else:
        fail("unknown attribute type " + kind)

def _check(kind, declared, name, kwargs):
    if type(name) != "string" or name == "":
        fail("{}: a name is required".format(kind))
    for k, v in kwargs.items():
        if k not in declared:
            fail("{}(name = {}) has no attribute `{}` in the prelude".format(kind, repr(name), k))
        _check_value("{}(name = {}).{}".format(kind, repr(name), k), declared[k], v)

def rust_library(name, **kwargs):
    _check("rust_library", RUST_LIBRARY_ATTRS, name, kwargs)
    _record("rust_library", name, kwargs)

def rust_binary(name, **kwargs):
    _check("rust_binary", RUST_BINARY_ATTRS, name, kwargs)
    _record("rust_binary", name, kwargs)

def configured_alias(name, **kwargs):
    _check("configured_alias", CONFIGURED_ALIAS_ATTRS, name, kwargs)
    _record("configured_alias", name, kwargs)

def platform(name, **kwargs):
    _check("platform", PLATFORM_ATTRS, name, kwargs)
    _record("platform", name, kwargs)

def constraint_setting(name, **kwargs):
    _check("constraint_setting", CONSTRAINT_SETTING_ATTRS, name, kwargs)
    _record("constraint_setting", name, kwargs)

# prelude/rust/tools/tool_rules.bzl's rule: the cfgs `rustc --print=cfg`
# prints for the toolchain's target.
GET_RUSTC_CFG_ATTRS = _COMMON | {
    "enable_nightly_cfgs": "bool",
}

def get_rustc_cfg(name, **kwargs):
    _check("get_rustc_cfg", GET_RUSTC_CFG_ATTRS, name, kwargs)
    _record("get_rustc_cfg", name, kwargs)

def constraint_value(name, **kwargs):
    _check("constraint_value", CONSTRAINT_VALUE_ATTRS, name, kwargs)
    _record("constraint_value", name, kwargs)

# The macro of prelude/rust/cargo_buildscript.bzl, its parameters as declared.
def buildscript_run(
        name,
        buildscript_rule,
        package_name,
        version,
        platform = {},
        local_manifest_dir = None,
        manifest_dir = None,
        buildscript_compatible_with = None,
        **kwargs):
    _check_value("buildscript_run.buildscript_rule", "label", buildscript_rule)
    _check_value("buildscript_run.package_name", "str", package_name)
    _check_value("buildscript_run.version", "str", version)
    if local_manifest_dir != None:
        _check_value("buildscript_run.local_manifest_dir", "source", local_manifest_dir)
    if manifest_dir != None:
        _check_value("buildscript_run.manifest_dir", "label", manifest_dir)
    _check("buildscript_run", _BUILDSCRIPT_RULE_ATTRS, name, kwargs)
    attrs = dict(kwargs)
    attrs["buildscript_rule"] = buildscript_rule
    attrs["package_name"] = package_name
    attrs["version"] = version
    attrs["local_manifest_dir"] = local_manifest_dir
    _record("buildscript_run", name, attrs)

# select() as Buck2 resolves it for one configuration: the branch of the
# constraint value the configuration carries, else DEFAULT.
def select(branches):
    for k in branches:
        if k != "DEFAULT" and not _is_label(k):
            fail("select() key {} is not a label".format(repr(k)))
    if ":" + CONFIG in branches:
        return branches[":" + CONFIG]
    if "DEFAULT" not in branches:
        fail("select() has no branch for {} and no DEFAULT".format(CONFIG))
    return branches["DEFAULT"]

# ---- what toolchain.bzl uses: rule(), attrs, providers -----------------

def _attr(kind, **kwargs):
    return struct(kind = kind, args = kwargs)

attrs = struct(
    arg = lambda **kw: _attr("arg", **kw),
    bool = lambda **kw: _attr("bool", **kw),
    dep = lambda **kw: _attr("dep", **kw),
    dict = lambda key, value, **kw: _attr("dict", key = key, value = value, **kw),
    enum = lambda values, **kw: _attr("enum", values = values, **kw),
    exec_dep = lambda **kw: _attr("dep", **kw),
    list = lambda item, **kw: _attr("list", item = item, **kw),
    option = lambda inner, **kw: _attr("option", inner = inner, **kw),
    string = lambda **kw: _attr("str", **kw),
    toolchain_dep = lambda **kw: _attr("dep", **kw),
)

def _check_attr(where, a, v):
    if a.kind == "option":
        if v != None:
            _check_attr(where, a.args["inner"], v)
    elif a.kind == "enum":
        if v not in a.args["values"]:
            fail("{}: one of {}, not {}".format(where, a.args["values"], repr(v)))
    elif a.kind == "dict":
        if type(v) != "dict":
            fail("{}: a dict, not {}".format(where, type(v)))
        for k, x in v.items():
            _check_attr(where + " key", a.args["key"], k)
            _check_attr("{}[{}]".format(where, repr(k)), a.args["value"], x)
    elif a.kind == "list":
        if type(v) != "list":
            fail("{}: a list, not {}".format(where, type(v)))
        for x in v:
            _check_attr(where, a.args["item"], x)
    else:
        _check_value(where, a.kind, v)

def rule(impl, attrs, is_toolchain_rule = False, doc = ""):
    def instantiate(name, **kwargs):
        for k, v in kwargs.items():
            if k in _COMMON:
                _check_value(k, _COMMON[k], v)
            elif k not in attrs:
                fail("{}(name = {}) has no attribute `{}`".format(str(impl), repr(name), k))
            else:
                _check_attr("{}(name = {}).{}".format(str(impl), repr(name), k), attrs[k], v)
        for k, a in attrs.items():
            if k not in kwargs and "default" not in a.args:
                fail("{}(name = {}) needs `{}`".format(str(impl), repr(name), k))
        _record(str(impl), name, kwargs)

    return instantiate

def DefaultInfo(**kwargs):
    return {"provider": "DefaultInfo"}

def RunInfo(args = []):
    return {"provider": "RunInfo", "args": args}

# prelude/rust/rust_toolchain.bzl
_RUST_TOOLCHAIN_FIELDS = [
    "report_unused_deps", "rustc_target_triple", "rustc_flags", "extra_rustc_flags",
    "rustc_binary_flags", "rustc_test_flags", "rustc_coverage_flags", "rustdoc_flags",
    "doctests", "failure_filter", "compiler", "rustdoc", "clippy_driver", "rustc_action",
    "rustdoc_test_with_resources", "rustdoc_coverage", "failure_filter_action",
    "default_edition", "allow_lints", "deny_lints", "warn_lints", "clippy_toml",
    "extern_html_root_url_prefix", "transitive_dependency_symlinks_tool",
    "advanced_unstable_linking", "explicit_sysroot_deps", "panic_runtime", "force_rlib",
]

_PanicRuntime = enum("unwind", "abort", "none")

def PanicRuntime(v):
    return _PanicRuntime(v)

def RustExplicitSysrootDeps(core, proc_macro, std, panic_unwind, panic_abort, others):
    if type(others) != "list":
        fail("RustExplicitSysrootDeps.others: a list")
    return {
        "core": core,
        "others": others,
        "panic_abort": panic_abort,
        "panic_unwind": panic_unwind,
        "proc_macro": proc_macro,
        "std": std,
    }

def RustToolchainInfo(**kwargs):
    out = {"provider": "RustToolchainInfo"}
    for k, v in kwargs.items():
        if k not in _RUST_TOOLCHAIN_FIELDS:
            fail("RustToolchainInfo has no field `{}`".format(k))
        out[k] = v.value if k == "panic_runtime" else v
    if "panic_runtime" not in kwargs:
        fail("RustToolchainInfo needs panic_runtime (it has no default)")
    return out
