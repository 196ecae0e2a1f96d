//! Who may replicate from this master: the HA port's proof of an account (`rmq_ha::auth`),
//! decided by the broker's access control. With ACL 1.0 the account must be an admin account
//! of `plain_acl.yml`; with ACL 2.0 an enabled `Super` user. A slave proves the broker's own
//! account (`innerAccessKey`/`innerSecretKey`, or `innerClientAuthenticationCredentials`).

use std::net::IpAddr;

use rmq_ha::{HaGuard, HaProver, CHALLENGE_SIZE};
use rmq_remoting::protocol::signature::{hmac_sha1, random_challenge, same};
use rmq_remoting::Credentials;

use super::v2::model::{UserStatus, UserType};
use super::Gate;

/// The master's side.
#[derive(Debug)]
pub struct ReplicationGuard(pub Gate);

impl ReplicationGuard {
    /// The secret of an account allowed to replicate.
    fn secret(&self, access_key: &str) -> Result<String, String> {
        match &self.0 {
            Gate::V1(acl) => {
                let rules = acl.rules();
                let account = rules
                    .accounts
                    .get(access_key)
                    .ok_or("no such account in plain_acl.yml")?;
                match account.admin {
                    true => Ok(account.secret_key.clone()),
                    false => Err("only an admin account may replicate".into()),
                }
            }
            Gate::V2(auth) => {
                let user = auth.store().user(access_key).ok_or("no such user")?;
                if user.status == UserStatus::Disable {
                    return Err("the user is disabled".into());
                }
                match user.kind {
                    UserType::Super => Ok(user.password),
                    UserType::Normal => Err("only a Super user may replicate".into()),
                }
            }
        }
    }
}

impl HaGuard for ReplicationGuard {
    fn challenge(&self) -> [u8; CHALLENGE_SIZE] {
        random_challenge()
    }

    fn check(
        &self,
        _peer: IpAddr,
        access_key: &str,
        challenge: &[u8],
        proof: &[u8],
    ) -> Result<(), String> {
        let secret = self.secret(access_key)?;
        match same(&hmac_sha1(&secret, challenge), proof) {
            true => Ok(()),
            false => Err("the proof was not made with the account's secret".into()),
        }
    }
}

/// The slave's side: the broker's own account.
#[derive(Debug)]
pub struct ReplicationProver(pub Credentials);

impl HaProver for ReplicationProver {
    fn access_key(&self) -> &str {
        &self.0.access_key
    }

    fn prove(&self, challenge: &[u8]) -> Vec<u8> {
        hmac_sha1(&self.0.secret_key, challenge)
    }
}
