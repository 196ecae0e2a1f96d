//! Route query benchmark (work in progress).
fn main() {}
