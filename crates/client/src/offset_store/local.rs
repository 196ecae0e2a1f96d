//! Offsets in a local file (broadcasting): `<dir>/<clientId>/<group>/offsets.json`, with `dir`
//! defaulting to `~/.rocketmq_offsets` as Java's `LocalFileOffsetStore`. The JSON is
//! `{"offsetTable":{MessageQueue:offset}}` written in fastjson's inline-object-key form so a Java
//! client can read it too; the previous file is kept as `offsets.json.bak` (read back when the
//! file is unreadable), and the new one is written by `rmq_runtime::fs` (temp file, fsync,
//! rename, fsync of the directory) so a crash never leaves a torn file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rmq_common::MessageQueue;
use rmq_remoting::body::JsonBody;
use serde::{Deserialize, Serialize};

use super::table::OffsetTable;
use crate::error::{ClientError, Result};

/// `OffsetSerializeWrapper`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct OffsetFile {
    #[serde(with = "rmq_remoting::json::mq_map")]
    offset_table: BTreeMap<MessageQueue, i64>,
}
impl JsonBody for OffsetFile {}

/// The default directory: `$HOME/.rocketmq_offsets`.
pub fn default_offset_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".rocketmq_offsets")
}

#[derive(Debug)]
pub(crate) struct LocalOffsetStore {
    pub(super) table: OffsetTable,
    path: PathBuf,
    loaded: HashMap<MessageQueue, i64>,
}

fn io_err(path: &Path, source: std::io::Error) -> ClientError {
    ClientError::OffsetFile {
        path: path.display().to_string(),
        source,
    }
}

impl LocalOffsetStore {
    /// Opens the store and reads the file (or its `.bak` if the file is unreadable).
    pub fn open(dir: &Path, client_id: &str, group: &str) -> Result<Self> {
        // A client id contains '@' and maybe ':' (IPv6); keep it one path component.
        let safe_id: String = client_id
            .chars()
            .map(|c| if c == '/' || c == '\\' { '_' } else { c })
            .collect();
        let path = dir.join(safe_id).join(group).join("offsets.json");
        let loaded = Self::read(&path)
            .or_else(|_| Self::read(&rmq_runtime::fs::backup_path(&path)))
            .unwrap_or_default();
        Ok(LocalOffsetStore {
            table: OffsetTable::default(),
            path,
            loaded,
        })
    }

    fn read(path: &Path) -> Result<HashMap<MessageQueue, i64>> {
        let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
        let f = OffsetFile::from_json_bytes(&bytes).map_err(|e| {
            io_err(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            )
        })?;
        Ok(f.offset_table.into_iter().collect())
    }

    pub(super) fn stored(&self, mq: &MessageQueue) -> Option<i64> {
        self.loaded.get(mq).copied()
    }

    pub(super) async fn persist(&self, offsets: &HashMap<MessageQueue, i64>) -> Result<()> {
        let mut all: BTreeMap<MessageQueue, i64> = self.loaded.clone().into_iter().collect();
        all.extend(offsets.iter().map(|(q, o)| (q.clone(), *o)));
        let text = OffsetFile { offset_table: all }.to_fastjson_bytes();
        let path = self.path.clone();
        let written = tokio::task::spawn_blocking(move || {
            rmq_runtime::fs::write_atomic_keeping_backup(&path, &text)
        })
        .await
        .map_err(|e| io_err(&self.path, std::io::Error::other(e)))?;
        written.map_err(|e| io_err(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offset_store::OffsetStore;

    #[tokio::test]
    async fn persists_and_reloads_in_java_shape() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            OffsetStore::Local(LocalOffsetStore::open(dir.path(), "10.0.0.1@x", "G").unwrap());
        let q0 = MessageQueue::new("T", "b", 0);
        let q1 = MessageQueue::new("T", "b", 1);
        store.update(&q0, 7, true);
        store.update(&q1, 3, true);
        store.persist(None).await;
        store.update(&q0, 9, true);
        store.persist(None).await;

        let path = dir.path().join("10.0.0.1@x").join("G").join("offsets.json");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(r#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:9"#),
            "{text}"
        );
        assert!(path.with_extension("json.bak").exists());

        let reopened =
            OffsetStore::Local(LocalOffsetStore::open(dir.path(), "10.0.0.1@x", "G").unwrap());
        assert_eq!(reopened.read_store(&q0).await.unwrap(), Some(9));
        assert_eq!(reopened.read_store(&q1).await.unwrap(), Some(3));
        assert_eq!(reopened.read_memory(&q1), Some(3));
        assert_eq!(
            reopened
                .read_store(&MessageQueue::new("T", "b", 5))
                .await
                .unwrap(),
            None
        );
    }

    #[test]
    fn corrupt_file_falls_back_to_backup() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("c").join("G");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(base.join("offsets.json"), b"{garbage").unwrap();
        std::fs::write(
            base.join("offsets.json.bak"),
            br#"{"offsetTable":{{"brokerName":"b","queueId":2,"topic":"T"}:44}}"#,
        )
        .unwrap();
        let s = LocalOffsetStore::open(dir.path(), "c", "G").unwrap();
        assert_eq!(s.stored(&MessageQueue::new("T", "b", 2)), Some(44));
    }
}
