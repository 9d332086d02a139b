// A #![no_std] program for riscv64gc-unknown-none-elf under qemu-riscv64
// (user mode): Linux syscalls through `ecall`, heap from alloc.
#![no_std]
#![no_main]
extern crate alloc;
use alloc::{format, vec::Vec};
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

struct Bump(UnsafeCell<([u8; 4096], usize)>);
unsafe impl Sync for Bump {}
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let (buf, next) = unsafe { &mut *self.0.get() };
        let start = (*next + l.align() - 1) & !(l.align() - 1);
        if start + l.size() > buf.len() {
            return core::ptr::null_mut();
        }
        *next = start + l.size();
        buf.as_mut_ptr().wrapping_add(start)
    }
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}
#[global_allocator]
static HEAP: Bump = Bump(UnsafeCell::new(([0; 4096], 0)));

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
