//! The one request helper of [`Admin`]: every admin call is "build a typed request, send it to
//! an address (or the name servers), require SUCCESS, decode the body or header it wants".
//! Writing that once keeps each call one line and every failure a [`ClientError`] that names
//! the peer and, for a refusal, its response code and remark.

use rmq_remoting::body::JsonBody;
use rmq_remoting::{CommandHeader, RemotingCommand, RequestCode, ResponseCode};

use super::Admin;
use crate::error::{ClientError, Result};

/// A request with a typed header.
pub(super) fn request(code: RequestCode, header: &impl CommandHeader) -> RemotingCommand {
    RemotingCommand::request(code, header)
}

/// A request without header fields.
pub(super) fn bare(code: RequestCode) -> RemotingCommand {
    RemotingCommand::new_request(code)
}

/// A successful answer and who gave it.
pub(super) struct Reply {
    addr: String,
    cmd: RemotingCommand,
}

impl Reply {
    /// The JSON body as `B`.
    pub fn body<B: JsonBody>(&self) -> Result<B> {
        B::from_json_bytes(&self.cmd.body).map_err(|e| bad(&self.addr, e))
    }

    /// The response header as `H`.
    pub fn header<H: CommandHeader>(&self) -> Result<H> {
        self.cmd.decode_header().map_err(|e| bad(&self.addr, e))
    }

    /// The raw body.
    /// The answer's remark (what a broker says it did).
    pub fn remark(&self) -> &str {
        self.cmd.remark.as_deref().unwrap_or("")
    }

    pub fn raw(&self) -> &bytes::Bytes {
        &self.cmd.body
    }
}

/// A [`ClientError::BadResponse`] from `addr`.
pub(super) fn bad(addr: &str, e: impl std::fmt::Display) -> ClientError {
    ClientError::BadResponse {
        addr: addr.to_owned(),
        reason: e.to_string(),
    }
}

impl Admin {
    /// Sends `req` to `addr` and returns whatever it answered.
    pub(super) async fn send(&self, addr: &str, req: RemotingCommand) -> Result<RemotingCommand> {
        let timeout = self.instance.options.rpc_timeout;
        self.instance.invoke(addr, req, timeout).await
    }

    /// Sends `req` to `addr`; anything but SUCCESS is an error.
    pub(super) async fn call(&self, addr: &str, req: RemotingCommand) -> Result<Reply> {
        let cmd = self.send(addr, req).await?;
        Self::success(addr, cmd)
    }

    /// Sends `req` to `addr`; `None` when it answers one of `absent` (e.g. QUERY_NOT_FOUND),
    /// an error for any other code but SUCCESS.
    pub(super) async fn call_or_absent(
        &self,
        addr: &str,
        req: RemotingCommand,
        absent: &[ResponseCode],
    ) -> Result<Option<Reply>> {
        let cmd = self.send(addr, req).await?;
        Self::accept(addr, cmd, absent)
    }

    /// Sends `req` to the first name server that answers; anything but SUCCESS is an error.
    pub(super) async fn call_namesrv(&self, req: RemotingCommand) -> Result<Reply> {
        let cmd = self.instance.invoke_namesrv(req).await?;
        Self::success(&self.instance.name_server_list(), cmd)
    }

    /// As [`call_namesrv`](Self::call_namesrv), with `absent` codes answered as `None`.
    pub(super) async fn call_namesrv_or_absent(
        &self,
        req: RemotingCommand,
        absent: &[ResponseCode],
    ) -> Result<Option<Reply>> {
        let cmd = self.instance.invoke_namesrv(req).await?;
        Self::accept(&self.instance.name_server_list(), cmd, absent)
    }

    /// Sends `req` to every name server; each must answer SUCCESS (writes that every name
    /// server must hold, such as KV config and topic deletion).
    pub(super) async fn call_every_namesrv(&self, req: RemotingCommand) -> Result<()> {
        for addr in &self.instance.options.name_servers {
            self.call(addr, req.clone()).await?;
        }
        Ok(())
    }

    fn success(addr: &str, cmd: RemotingCommand) -> Result<Reply> {
        if cmd.is_success() {
            Ok(Reply {
                addr: addr.to_owned(),
                cmd,
            })
        } else {
            Err(ClientError::from_response(addr, &cmd))
        }
    }

    fn accept(addr: &str, cmd: RemotingCommand, absent: &[ResponseCode]) -> Result<Option<Reply>> {
        let code = ResponseCode::from(cmd.code);
        if code == ResponseCode::Success {
            Ok(Some(Reply {
                addr: addr.to_owned(),
                cmd,
            }))
        } else if absent.contains(&code) {
            Ok(None)
        } else {
            Err(ClientError::from_response(addr, &cmd))
        }
    }
}
