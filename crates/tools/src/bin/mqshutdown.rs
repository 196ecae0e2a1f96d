//! `mqshutdown`: stops the local `mqbroker` or `mqnamesrv` gracefully.

fn main() {}
