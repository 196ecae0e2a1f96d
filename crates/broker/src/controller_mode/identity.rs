//! The broker id a controller gave this broker, kept under `storePathRootDir` in Apache's
//! files: `brokerIdentity` (`cluster#brokerName#brokerId`) once the id is applied, and
//! `brokerIdentity-temp` (`cluster#brokerName#brokerId#checkCode`) while it is being applied,
//! so a broker that dies mid-way applies again with the same check code.

use std::path::{Path, PathBuf};

use rmq_runtime::fs::write_atomic;

/// Where the two files live, and what this broker must find in them.
pub struct IdentityFiles {
    dir: PathBuf,
    cluster: String,
    broker_name: String,
}

/// An id being applied: the id and the check code sent with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub check_code: String,
}

/// Why an identity file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} says {found:?}, but this broker is {cluster}#{broker_name}: it belongs to \
         another broker; move it away (or fix brokerClusterName/brokerName)"
    )]
    Foreign {
        path: String,
        found: String,
        cluster: String,
        broker_name: String,
    },
}

impl IdentityFiles {
    pub fn new(dir: &Path, cluster: &str, broker_name: &str) -> Self {
        IdentityFiles {
            dir: dir.to_owned(),
            cluster: cluster.to_owned(),
            broker_name: broker_name.to_owned(),
        }
    }

    fn path(&self, temp: bool) -> PathBuf {
        self.dir.join(if temp {
            "brokerIdentity-temp"
        } else {
            "brokerIdentity"
        })
    }

    /// The fields after `cluster#brokerName#` of a file, if it exists.
    fn read(&self, temp: bool) -> Result<Option<Vec<String>>, IdentityError> {
        let path = self.path(temp);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(IdentityError::Io {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        let fields: Vec<&str> = text.trim().split('#').collect();
        let ours = fields.len() >= 3 && fields[0] == self.cluster && fields[1] == self.broker_name;
        let parsed = fields.get(2).and_then(|id| id.parse::<i64>().ok());
        if !ours || parsed.is_none() {
            return Err(IdentityError::Foreign {
                path: path.display().to_string(),
                found: text.trim().to_owned(),
                cluster: self.cluster.clone(),
                broker_name: self.broker_name.clone(),
            });
        }
        Ok(Some(fields[2..].iter().map(|f| (*f).to_owned()).collect()))
    }

    /// The applied id, if there is one.
    pub fn applied(&self) -> Result<Option<i64>, IdentityError> {
        Ok(self.read(false)?.and_then(|f| f[0].parse().ok()))
    }

    /// An apply that was under way.
    pub fn pending(&self) -> Result<Option<Pending>, IdentityError> {
        Ok(self.read(true)?.and_then(|f| {
            Some(Pending {
                id: f[0].parse().ok()?,
                check_code: f.get(1)?.clone(),
            })
        }))
    }

    fn write(&self, temp: bool, text: &str) -> Result<(), IdentityError> {
        let path = self.path(temp);
        std::fs::create_dir_all(&self.dir)
            .and_then(|()| write_atomic(&path, text.as_bytes()))
            .map_err(|source| IdentityError::Io {
                path: path.display().to_string(),
                source,
            })
    }

    /// Records an apply about to be sent.
    pub fn begin(&self, p: &Pending) -> Result<(), IdentityError> {
        let text = format!(
            "{}#{}#{}#{}",
            self.cluster, self.broker_name, p.id, p.check_code
        );
        self.write(true, &text)
    }

    /// Records the applied id and forgets the pending apply.
    pub fn commit(&self, id: i64) -> Result<(), IdentityError> {
        self.write(
            false,
            &format!("{}#{}#{id}", self.cluster, self.broker_name),
        )?;
        self.abandon();
        Ok(())
    }

    /// Forgets a pending apply the controller refused.
    pub fn abandon(&self) {
        let path = self.path(true);
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove the pending broker identity");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_pending_then_applied_and_a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = IdentityFiles::new(dir.path(), "C", "broker-a");
        assert_eq!(f.applied().unwrap(), None);
        let p = Pending {
            id: 2,
            check_code: "127.0.0.1:10911;5".into(),
        };
        f.begin(&p).unwrap();
        assert_eq!(f.pending().unwrap(), Some(p));
        f.commit(2).unwrap();
        assert_eq!(f.applied().unwrap(), Some(2));
        assert_eq!(f.pending().unwrap(), None);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("brokerIdentity")).unwrap(),
            "C#broker-a#2"
        );
        let other = IdentityFiles::new(dir.path(), "C", "broker-b");
        assert!(matches!(
            other.applied(),
            Err(IdentityError::Foreign { .. })
        ));
    }
}
