// Compiled against a sysgen sysroot by tests/e2e.rs: threads, HashMap,
// catch_unwind and a printed backtrace.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

fn main() {
    let map = Arc::new(Mutex::new(HashMap::new()));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let map = map.clone();
            std::thread::spawn(move || {
                map.lock().unwrap().insert(i, i * i);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let sum: i32 = map.lock().unwrap().values().sum();
    println!("sum of squares: {sum}");
    std::panic::set_hook(Box::new(|_| {}));
    let caught = std::panic::catch_unwind(|| panic!("boom")).is_err();
    println!("caught panic: {caught}");
    let bt = std::backtrace::Backtrace::force_capture().to_string();
    println!("backtrace names main: {}", bt.contains("host_std::main"));
}
