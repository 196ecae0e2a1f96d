//! `cargo xtask <command>`: developer and operator automation for rmq.

fn main() -> anyhow::Result<()> {
    let cmd = std::env::args().nth(1).unwrap_or_default();
    match cmd.as_str() {
        "" | "help" | "--help" => {
            println!("usage: cargo xtask <command>\n\ncommands are added as the daemons land");
            Ok(())
        }
        other => anyhow::bail!("unknown xtask command {other:?}; run `cargo xtask help`"),
    }
}
