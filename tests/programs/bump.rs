// A bump allocator over a static buffer: the heap of the #![no_std]
// programs (included by bare_arm.rs and bare_riscv.rs).
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

