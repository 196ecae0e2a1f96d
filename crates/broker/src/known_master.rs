//! A slave's view of its master: the addresses the name servers answered the last
//! registration with. Registration writes it; the metadata copy reads it.

use std::sync::Arc;

use parking_lot::RwLock;

/// Where a slave's master is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterAddrs {
    pub master_addr: String,
    pub ha_server_addr: String,
}

/// Shared between the registration tasks and the slave's metadata copy.
#[derive(Clone, Default)]
pub struct KnownMaster(Arc<RwLock<Option<MasterAddrs>>>);

impl KnownMaster {
    /// The master's remoting address, once a name server named it.
    pub fn master_addr(&self) -> Option<String> {
        self.0.read().as_ref().map(|m| m.master_addr.clone())
    }

    /// The master's HA address, if the name servers named `master_addr` as the master.
    pub fn ha_addr_of(&self, master_addr: &str) -> Option<String> {
        self.0
            .read()
            .as_ref()
            .filter(|m| m.master_addr == master_addr)
            .map(|m| m.ha_server_addr.clone())
    }

    /// Records what a name server answered; `true` when it differs from what was known.
    pub fn update(&self, new: MasterAddrs) -> bool {
        let mut m = self.0.write();
        if m.as_ref() == Some(&new) {
            return false;
        }
        *m = Some(new);
        true
    }
}
