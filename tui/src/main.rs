fn main() { println!("xv6scope"); }
