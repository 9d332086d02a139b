// A #![no_std] program for riscv64gc-unknown-none-elf under qemu-riscv64
// (user mode): Linux syscalls through `ecall`, heap from alloc.
#![no_std]
#![no_main]
extern crate alloc;
use alloc::{format, vec::Vec};
include!("bump.rs");

fn write(s: &[u8]) {
    unsafe {
        core::arch::asm!("ecall", in("a7") 64usize, inout("a0") 1usize => _, in("a1") s.as_ptr(), in("a2") s.len());
    }
}
fn exit(code: usize) -> ! {
    unsafe { core::arch::asm!("ecall", in("a7") 93usize, in("a0") code, options(noreturn)) }
}
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(101)
}
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let v: Vec<u64> = (1..=10).collect();
    write(format!("no_std sum: {}\n", v.iter().sum::<u64>()).as_bytes());
    exit(0)
}
