//! `mqnamesrv` (work in progress).
fn main() {}
