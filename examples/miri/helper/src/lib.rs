#![no_std]

/// The sum of `n` numbers at `p`, by a raw pointer walk.
///
/// # Safety
/// `p` points to `n` live numbers.
pub unsafe fn sum_raw(p: *const u32, n: usize) -> u32 {
    let mut s = 0;
    for i in 0..n {
        s += unsafe { *p.add(i) };
    }
    s
}

pub fn sum(xs: &[u32]) -> u32 {
    unsafe { sum_raw(xs.as_ptr(), xs.len()) }
}
