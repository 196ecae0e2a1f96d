//! Compiles `proto/apache/rocketmq/v2/*.proto` with protox (a protobuf compiler in Rust: no
//! system `protoc`) and generates prost types and tonic client and server stubs from the
//! descriptors.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = ["definition.proto", "service.proto", "admin.proto"]
        .map(|f| root.join("apache/rocketmq/v2").join(f));
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let descriptors = protox::compile(&files, [&root])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
