"""A repository rule that runs `sysgen bazel` at fetch time.

Copy this file into your workspace (say tools/sysgen.bzl); then in WORKSPACE:

    load("//tools:sysgen.bzl", "sysgen_sysroot")

    sysgen_sysroot(
        name = "sysroot",
        sysgen = "/usr/local/bin/sysgen",   # the sysgen binary
        config = "//:sysgen.toml",          # optional: a sysgen.toml / Xargo.toml
        targets = ["thumbv6m-none-eabi"],   # optional (default: the config's, else the host)
        crates = ["core", "alloc"],         # optional (like --crates)
    )

    load("@sysroot//:defs.bzl", "sysgen_repositories")

    sysgen_repositories()

and build `@sysroot//:sysroot-thumbv6m-none-eabi`. Bazel 4 fetches again when
an attribute changes; it does not watch the config file or rust-src, so run
`bazel sync --only=sysroot` after editing them.
"""

def _sysgen_sysroot_impl(rctx):
    args = [rctx.attr.sysgen, "bazel", "-o", str(rctx.path("."))]
    if rctx.attr.config:
        args += ["--config", str(rctx.path(rctx.attr.config))]
    else:
        args.append("--no-config")
    for t in rctx.attr.targets:
        args += ["--target", t]
    if rctx.attr.crates:
        args.append("--crates=" + ",".join(rctx.attr.crates))
    args += rctx.attr.args
    result = rctx.execute(args, quiet = False)
    if result.return_code != 0:
        fail("`{}` failed: {}".format(" ".join(args), result.stderr))

sysgen_sysroot = repository_rule(
    implementation = _sysgen_sysroot_impl,
    attrs = {
        "sysgen": attr.string(mandatory = True, doc = "path of the sysgen binary"),
        "config": attr.label(allow_single_file = True),
        "targets": attr.string_list(),
        "crates": attr.string_list(),
        "args": attr.string_list(doc = "more `sysgen bazel` options (--profile, --rust-src, ...)"),
    },
    local = True,
)
