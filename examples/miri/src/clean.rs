extern crate helper;

fn main() {
    let v: Vec<u32> = (1..=4).collect();
    println!("sum: {}", helper::sum(&v));
}
