//! Front ends on the critical path first: the CPU priorities of a build's
//! rustc processes.
//!
//! `lower/schedule.rs` finds the chain of front ends that sets a sysroot
//! build's length (core → compiler_builtins → alloc → object → std). A
//! front end off that chain runs 5 nice steps lower (`pipe-begin
//! --background`), and every pipelined rustc's code generation 10 steps
//! lower once its metadata is written: after the `.rmeta` nothing in the
//! build waits for a crate's code generation but the sysroot's last step.
//! So the kernel runs the chain first and the rest in the time it leaves,
//! where cargo and ninja share the cores out evenly (compiler_builtins'
//! thousands of codegen units beside alloc's front end). Linux's nice is
//! per thread, and a thread inherits its creator's: the code generation's
//! threads are lowered one by one. Priority changes no byte of output, and
//! a process can always lower its own. `SYSGEN_PRIORITIES=0` in the
//! build's environment turns both off (to measure them).

/// Nice steps for a front end off the critical path.
const FRONT_END_STEPS: i32 = 5;
/// Nice steps for code generation after the metadata.
const CODE_GENERATION_STEPS: i32 = 10;

fn enabled() -> bool {
    std::env::var_os("SYSGEN_PRIORITIES").is_none_or(|v| v != "0")
}

/// Lower this process (before it starts the supervisor and rustc, which
/// inherit it).
pub fn lower_front_end() {
    if enabled() {
        lower_process(std::process::id(), FRONT_END_STEPS);
    }
}

/// Lower rustc `pid`, whose metadata is written.
pub fn lower_code_generation(pid: u32) {
    if enabled() {
        lower_process(pid, CODE_GENERATION_STEPS);
    }
}

/// Lower every thread of process `pid` by `steps` (at most to nice 19).
/// Best effort: a thread that is gone or refuses is left as it is.
fn lower_process(pid: u32, steps: i32) {
    let mut done = std::collections::BTreeSet::new();
    // A thread started while the list was read inherits its creator's
    // priority, which may not have been lowered yet: look again until no
    // new thread shows up.
    for _ in 0..4 {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return;
        };
        let mut new = false;
        for t in tasks.flatten() {
            let Some(tid) = t.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if done.insert(tid) {
                new = true;
                lower_thread(tid, steps);
            }
        }
        if !new {
            return;
        }
    }
}

fn lower_thread(tid: u32, steps: i32) {
    // SAFETY: get/setpriority take plain integers. getpriority's -1 may be
    // an error or nice -1; either way the new value is clamped.
    unsafe {
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid, (now + steps).clamp(-20, 19));
    }
}
