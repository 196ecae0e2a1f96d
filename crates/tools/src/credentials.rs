//! The ACL account `mqadmin` signs with: `--access-key` and `--secret-key`, or, as Apache's
//! `mqadmin` does, `accessKey`/`secretKey` in `$ROCKETMQ_HOME/conf/tools.yml`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use rmq_client::Credentials;

/// The account from the flags, else from the tools file, else none.
pub fn resolve(access_key: Option<&str>, secret_key: Option<&str>) -> Result<Option<Credentials>> {
    match (access_key, secret_key) {
        (Some(ak), Some(sk)) => Ok(Some(Credentials::new(ak, sk))),
        (Some(_), None) => bail!("--access-key needs --secret-key too"),
        (None, Some(_)) => bail!("--secret-key needs --access-key too"),
        (None, None) => match tools_file() {
            Some(path) if path.exists() => from_file(&path).map(Some),
            _ => Ok(None),
        },
    }
}

fn tools_file() -> Option<PathBuf> {
    let home = std::env::var_os("ROCKETMQ_HOME")?;
    Some(Path::new(&home).join("conf").join("tools.yml"))
}

fn from_file(path: &Path) -> Result<Credentials> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text)
        .map_err(|e| anyhow!("{} is not YAML: {e}", path.display()))?;
    let field = |name: &str| match doc.get(name) {
        Some(serde_yaml_ng::Value::String(s)) => Some(s.clone()),
        Some(serde_yaml_ng::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match (field("accessKey"), field("secretKey")) {
        (Some(ak), Some(sk)) => Ok(Credentials::new(ak, sk)),
        _ => bail!(
            "{} needs both accessKey and secretKey (or pass --access-key and --secret-key)",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_come_in_pairs_and_the_file_reads_numbers() {
        assert!(resolve(Some("ak"), None).is_err());
        assert!(resolve(None, Some("sk")).is_err());
        let c = resolve(Some("ak"), Some("sk")).unwrap().unwrap();
        assert_eq!((c.access_key.as_str(), c.secret_key.as_str()), ("ak", "sk"));
        let dir = std::env::temp_dir().join(format!("rmq-tools-yml-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tools.yml");
        std::fs::write(&file, "accessKey: rocketmq2\nsecretKey: 12345678\n").unwrap();
        let c = from_file(&file).unwrap();
        assert_eq!(
            (c.access_key.as_str(), c.secret_key.as_str()),
            ("rocketmq2", "12345678")
        );
        std::fs::write(&file, "accessKey: rocketmq2\n").unwrap();
        assert!(from_file(&file)
            .unwrap_err()
            .to_string()
            .contains("secretKey"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
