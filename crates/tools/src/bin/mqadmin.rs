//! `mqadmin`: administration of an rmq or Apache RocketMQ cluster.

fn main() {}
