//! Helpers shared by the component tests: an in-process name server on 127.0.0.1 port 0 with a
//! temp KV path, and request builders for what brokers and clients send.

#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;
use std::time::Duration;

use rmq_common::TopicConfig;
use rmq_namesrv::{NamesrvConfig, NamesrvHandle};
use rmq_remoting::body::{DataVersion, RegisterBrokerBody};
use rmq_remoting::header::{GetRouteInfoRequestHeader, RegisterBrokerRequestHeader};
use rmq_remoting::{RemotingClient, RemotingCommand, RequestCode};

pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Starts a name server whose KV file lives in `dir`; `tweak` adjusts the config.
pub async fn start(dir: &Path, tweak: impl FnOnce(&mut NamesrvConfig)) -> NamesrvHandle {
    let mut config = NamesrvConfig {
        kv_config_path: dir.join("kvConfig.json"),
        bind_address: "127.0.0.1".into(),
        listen_port: 0,
        ..NamesrvConfig::default()
    };
    tweak(&mut config);
    let listener = rmq_namesrv::bind(&config).await.unwrap();
    rmq_namesrv::start(config, listener).await.unwrap()
}

/// A broker registration as a 5.x broker sends it (JSON body, not compressed).
pub struct Broker<'a> {
    pub cluster: &'a str,
    pub name: &'a str,
    pub id: i64,
    pub addr: &'a str,
    pub topics: &'a [(&'a str, i32)],
    pub counter: i64,
}

impl Broker<'_> {
    pub fn body(&self) -> RegisterBrokerBody {
        let mut body = RegisterBrokerBody::default();
        let w = &mut body.topic_config_serialize_wrapper;
        w.data_version = DataVersion {
            counter: self.counter,
            state_version: 0,
            timestamp: 1_700_000_000_000,
        };
        for (t, q) in self.topics {
            w.topic_config_table
                .insert((*t).to_owned(), TopicConfig::new(*t, *q, *q, 6));
        }
        body
    }

    pub fn header(&self) -> RegisterBrokerRequestHeader {
        RegisterBrokerRequestHeader {
            broker_name: self.name.into(),
            broker_addr: self.addr.into(),
            cluster_name: self.cluster.into(),
            ha_server_addr: format!("{}-ha", self.addr),
            broker_id: self.id,
            enable_acting_master: Some(false),
            compressed: Some(false),
            body_crc32: Some(0),
            ..Default::default()
        }
    }

    pub fn request(&self) -> RemotingCommand {
        let body = self.body().encode();
        let mut header = self.header();
        header.body_crc32 = Some(rmq_common::java::crc32_masked(&body) as i32);
        RemotingCommand::request(RequestCode::RegisterBroker, &header).with_body(body)
    }
}

pub fn route_request(topic: &str) -> RemotingCommand {
    RemotingCommand::request(
        RequestCode::GetRouteinfoByTopic,
        &GetRouteInfoRequestHeader {
            topic: topic.into(),
            ..Default::default()
        },
    )
}

pub async fn invoke(client: &RemotingClient, addr: &str, req: RemotingCommand) -> RemotingCommand {
    client.invoke(addr, req, TIMEOUT).await.unwrap()
}

/// Polls `check` every 20 ms until it holds or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
