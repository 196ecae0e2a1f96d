//! [`KvConfigStore`]: the name server's namespaced key/value table (`KVConfigManager`).
//!
//! The only state a name server keeps on disk: `mqadmin updateTopic -o true` stores order-topic
//! configs here and brokers read them back at registration. The table is small and changes
//! rarely, so every change rewrites the whole file (`{"configTable":{ns:{k:v}}}`, Apache's shape)
//! through `rmq_runtime::fs::write_atomic` (temp file, fsync, rename, fsync of the directory): a
//! crash leaves either the old or the new file, never half. Apache keeps no `.bak` of this file
//! and neither does rmq.
//! Changes are serialized by an async mutex held across mutation and write, so the file always
//! reflects the latest change; readers only take the short in-memory lock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parking_lot::RwLock;
use rmq_remoting::body::KVTable;
use serde::{Deserialize, Serialize};

use crate::NamesrvError;

type Table = BTreeMap<String, BTreeMap<String, String>>;

/// The file's JSON shape (`KVConfigSerializeWrapper`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct KvConfigFile {
    config_table: Table,
}

/// Namespaced key/value config, persisted to one JSON file.
#[derive(Debug)]
pub struct KvConfigStore {
    path: PathBuf,
    table: RwLock<Table>,
    /// Held from a change until its file write finished.
    persist: tokio::sync::Mutex<()>,
}

impl KvConfigStore {
    /// Loads `path`; a missing or empty file is an empty table.
    pub fn load(path: &Path) -> Result<Self, NamesrvError> {
        let table = match std::fs::read(path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Table::new(),
            Ok(bytes) => {
                rmq_remoting::json::from_slice::<KvConfigFile>(&bytes)
                    .map_err(|e| NamesrvError::KvCorrupt {
                        path: path.to_owned(),
                        reason: e.to_string(),
                    })?
                    .config_table
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Table::new(),
            Err(source) => {
                return Err(NamesrvError::KvLoad {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        Ok(KvConfigStore {
            path: path.to_owned(),
            table: RwLock::new(table),
            persist: tokio::sync::Mutex::new(()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, namespace: &str, key: &str) -> Option<String> {
        self.table.read().get(namespace)?.get(key).cloned()
    }

    /// A namespace's entries; `None` if the namespace was never written.
    pub fn namespace(&self, namespace: &str) -> Option<KVTable> {
        let table = self.table.read();
        table.get(namespace).map(|kv| KVTable { table: kv.clone() })
    }

    /// Sets a value and persists the table.
    pub async fn put(&self, namespace: &str, key: &str, value: &str) -> Result<(), NamesrvError> {
        self.change(|t| {
            t.entry(namespace.to_owned())
                .or_default()
                .insert(key.to_owned(), value.to_owned());
        })
        .await
    }

    /// Removes a value (the namespace stays, as in Apache) and persists the table.
    pub async fn delete(&self, namespace: &str, key: &str) -> Result<(), NamesrvError> {
        self.change(|t| {
            if let Some(kv) = t.get_mut(namespace) {
                kv.remove(key);
            }
        })
        .await
    }

    async fn change(&self, edit: impl FnOnce(&mut Table)) -> Result<(), NamesrvError> {
        let _persisting = self.persist.lock().await;
        let bytes = {
            let mut table = self.table.write();
            edit(&mut table);
            serde_json::to_vec(&KvConfigFileRef {
                config_table: &table,
            })
            .unwrap_or_default()
        };
        let path = self.path.clone();
        let written =
            tokio::task::spawn_blocking(move || rmq_runtime::fs::write_atomic(&path, &bytes)).await;
        match written {
            Ok(result) => result.map_err(|source| NamesrvError::KvPersist {
                path: self.path.clone(),
                source,
            }),
            Err(join) => Err(NamesrvError::KvPersist {
                path: self.path.clone(),
                source: std::io::Error::other(join.to_string()),
            }),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KvConfigFileRef<'a> {
    config_table: &'a Table,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn persists_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/kvConfig.json");
        let kv = KvConfigStore::load(&path).unwrap();
        assert!(kv.namespace("ORDER_TOPIC_CONFIG").is_none());
        kv.put("ORDER_TOPIC_CONFIG", "T", "a:4;b:4").await.unwrap();
        kv.put("ns", "k", "v").await.unwrap();
        kv.delete("ns", "k").await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            r#"{"configTable":{"ORDER_TOPIC_CONFIG":{"T":"a:4;b:4"},"ns":{}}}"#
        );
        let again = KvConfigStore::load(&path).unwrap();
        assert_eq!(
            again.get("ORDER_TOPIC_CONFIG", "T").as_deref(),
            Some("a:4;b:4")
        );
        assert!(again.namespace("ns").unwrap().table.is_empty());
        assert!(again.get("ns", "k").is_none());
    }

    #[test]
    fn corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.json");
        std::fs::write(&path, "{not json").unwrap();
        let e = KvConfigStore::load(&path).unwrap_err().to_string();
        assert!(e.contains("kv.json"), "{e}");
        std::fs::write(&path, "\n").unwrap();
        assert!(KvConfigStore::load(&path).is_ok());
    }
}
