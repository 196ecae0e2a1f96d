//! What brokers send: REGISTER_BROKER (103), UNREGISTER_BROKER (104), QUERY_DATA_VERSION (322)
//! and BROKER_HEARTBEAT (904) (Apache `DefaultRequestProcessor`).

use rmq_common::java::crc32_masked;
use rmq_common::time::now_millis;
use rmq_remoting::body::{DataVersion, JsonBody, RegisterBrokerBody, TopicConfigSerializeWrapper};
use rmq_remoting::header::{
    BrokerHeartbeatRequestHeader, QueryDataVersionRequestHeader, QueryDataVersionResponseHeader,
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader, UnRegisterBrokerRequestHeader,
};
use rmq_remoting::{ProcessError, ProcessResult, RemotingCommand, RequestContext, ResponseCode};
use tracing::{info, warn};

use crate::route_table::{BrokerAddrKey, BrokerRegistration, RegisterRejection, Unregistration};
use crate::state::{NamesrvState, NAMESPACE_ORDER_TOPIC_CONFIG};

pub(super) fn register_broker(
    state: &NamesrvState,
    ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    let h: RegisterBrokerRequestHeader = req.decode_header()?;
    if let Some(expected) = h.body_crc32.filter(|c| *c != 0) {
        let actual = crc32_masked(&req.body) as i32;
        if actual != expected {
            warn!(
                broker = %h.broker_name, addr = %h.broker_addr, expected, actual,
                "registration refused: body crc32 does not match"
            );
            return Err(ProcessError::response(
                ResponseCode::SystemError,
                "crc32 not match",
            ));
        }
    }
    let body = decode_body(&req.body, h.compressed.unwrap_or(false))?;
    let registration = BrokerRegistration {
        cluster_name: h.cluster_name.clone(),
        broker_name: h.broker_name.clone(),
        broker_addr: h.broker_addr.clone(),
        broker_id: h.broker_id,
        ha_server_addr: h.ha_server_addr.clone(),
        zone_name: h.zone_name.clone(),
        enable_acting_master: h.enable_acting_master,
        heartbeat_timeout_millis: h.heartbeat_timeout_millis,
        topic_config: body.topic_config_serialize_wrapper,
        filter_server_list: body.filter_server_list,
        connection: Some(ctx.connection_id()),
    };
    let topics = registration.topic_config.topic_config_table.len();
    let outcome = state.routes.write().register(registration, now_millis());
    // Re-registrations every 30 s usually change nothing a query returns: keep encoded routes.
    if outcome.as_ref().map_or(true, |r| r.routes_changed) {
        state.route_cache.invalidate();
    }
    let mut header = RegisterBrokerResponseHeader::default();
    match outcome {
        Ok(result) => {
            if result.first_for_addr {
                info!(
                    cluster = %h.cluster_name, broker = %h.broker_name, broker_id = h.broker_id,
                    addr = %h.broker_addr, ha_addr = %h.ha_server_addr, topics,
                    "new broker registered"
                );
            }
            header.master_addr = result.master_addr;
            header.ha_server_addr = result.ha_server_addr;
            state.track_broker_connection(ctx.connection());
        }
        Err(RegisterRejection::StaleStateVersion { holder_addr }) => {
            warn!(
                broker = %h.broker_name, broker_id = h.broker_id, addr = %h.broker_addr,
                %holder_addr, "registration ignored: the id is held with a higher state version"
            );
        }
        Err(RegisterRejection::SingleTopicBeforeFullRegistration) => {
            warn!(
                broker = %h.broker_name, broker_id = h.broker_id, addr = %h.broker_addr,
                "registration refused: single-topic registration before a full one"
            );
            return Err(ProcessError::response(
                ResponseCode::SystemError,
                "register broker failed",
            ));
        }
    }
    let mut response = req.response_to(ResponseCode::Success).with_header(&header);
    if state.config.return_order_topic_config_to_broker {
        if let Some(table) = state.kv.namespace(NAMESPACE_ORDER_TOPIC_CONFIG) {
            response = response.with_body(table.to_json_bytes());
        }
    }
    Ok(Some(response))
}

/// The registration body: empty (a zero data version, no topics), the JSON or compressed
/// `RegisterBrokerBody`, or the bare `TopicConfigSerializeWrapper` that brokers older than
/// V3_0_11 send (recognized by its shape rather than by version number).
fn decode_body(body: &[u8], compressed: bool) -> Result<RegisterBrokerBody, ProcessError> {
    if body.is_empty() {
        return Ok(RegisterBrokerBody::default());
    }
    let decoded = RegisterBrokerBody::decode(body, compressed)?;
    let w = &decoded.topic_config_serialize_wrapper;
    if !compressed && w.topic_config_table.is_empty() && w.data_version == DataVersion::default() {
        if let Ok(bare) = TopicConfigSerializeWrapper::from_json_bytes(body) {
            if !bare.topic_config_table.is_empty() {
                return Ok(RegisterBrokerBody {
                    filter_server_list: Vec::new(),
                    topic_config_serialize_wrapper: bare,
                });
            }
        }
    }
    Ok(decoded)
}

pub(super) fn unregister_broker(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    let h: UnRegisterBrokerRequestHeader = req.decode_header()?;
    state.unregister(&Unregistration {
        cluster_name: h.cluster_name,
        broker_name: h.broker_name,
        broker_addr: h.broker_addr,
        broker_id: h.broker_id,
    });
    Ok(Some(req.response_to(ResponseCode::Success)))
}

/// Answers whether the broker's topic config differs from what it last registered, and refreshes
/// its liveness (brokers with `forceRegister=false` ask this before registering).
pub(super) fn query_data_version(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    let h: QueryDataVersionRequestHeader = req.decode_header()?;
    let version = if req.body.is_empty() {
        DataVersion::default()
    } else {
        DataVersion::from_json_bytes(&req.body)?
    };
    let key = BrokerAddrKey::new(h.cluster_name, h.broker_addr);
    let (changed, known) = {
        let mut routes = state.routes.write();
        let changed = routes.is_broker_topic_config_changed(&key, &version);
        routes.refresh(&key, now_millis());
        (changed, routes.broker_data_version(&key))
    };
    let mut response = req
        .response_to(ResponseCode::Success)
        .with_header(&QueryDataVersionResponseHeader { changed });
    if let Some(known) = known {
        response = response.with_body(known.to_json_bytes());
    }
    Ok(Some(response))
}

pub(super) fn broker_heartbeat(
    state: &NamesrvState,
    _ctx: &RequestContext,
    req: &RemotingCommand,
) -> ProcessResult {
    let h: BrokerHeartbeatRequestHeader = req.decode_header()?;
    let key = BrokerAddrKey::new(h.cluster_name, h.broker_addr);
    state.routes.write().refresh(&key, now_millis());
    Ok(Some(req.response_to(ResponseCode::Success)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_forms() {
        assert!(decode_body(b"", false)
            .unwrap()
            .topic_config_serialize_wrapper
            .topic_config_table
            .is_empty());
        let full = br#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":2,"stateVersion":0,"timestamp":9},"topicConfigTable":{"T":{"topicName":"T","perm":6}}}}"#;
        let b = decode_body(full, false).unwrap();
        assert_eq!(b.topic_config_serialize_wrapper.data_version.counter, 2);
        // Pre-3.0.11 brokers send the bare wrapper.
        let bare = br#"{"dataVersion":{"counter":3,"timestamp":9},"topicConfigTable":{"T":{"topicName":"T"}}}"#;
        let b = decode_body(bare, false).unwrap();
        assert_eq!(b.topic_config_serialize_wrapper.data_version.counter, 3);
        assert!(b
            .topic_config_serialize_wrapper
            .topic_config_table
            .contains_key("T"));
        assert!(decode_body(b"{broken", false).is_err());
    }
}
