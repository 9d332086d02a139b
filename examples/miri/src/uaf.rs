extern crate helper;

fn main() {
    let p = {
        let b = Box::new([7u32, 8]);
        b.as_ptr()
    };
    // The box is freed: Miri stops here with Undefined Behavior.
    println!("freed: {}", unsafe { helper::sum_raw(p, 2) });
}
