// A #![no_std] program for thumbv6m-none-eabi under qemu-arm (user mode):
// Linux syscalls through `svc 0`, heap from alloc over a bump allocator.
#![no_std]
#![no_main]
extern crate alloc;
use alloc::{format, vec::Vec};
include!("bump.rs");

fn write(s: &[u8]) {
    unsafe {
        core::arch::asm!("push {{r7}}", "movs r7, #4", "svc 0", "pop {{r7}}",
            inout("r0") 1usize => _, in("r1") s.as_ptr(), in("r2") s.len());
    }
}
fn exit(code: usize) -> ! {
    unsafe { core::arch::asm!("movs r7, #1", "svc 0", in("r0") code, options(noreturn)) }
}
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(101)
}
#[no_mangle]
pub extern "C" fn _start() -> ! {
    let v: Vec<u32> = (1..=10).collect();
    write(format!("no_std sum: {}\n", v.iter().sum::<u32>()).as_bytes());
    exit(0)
}
