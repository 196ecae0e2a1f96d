//! JSON bodies from the network: the broker registration the name server accepts (plain and
//! deflate-compressed, Apache's fastjson quirks included), the lenient JSON reader under every
//! body, and the heartbeat and lock bodies brokers decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmq_remoting::body::{HeartbeatData, LockBatchRequestBody, RegisterBrokerBody};
use rmq_remoting::json;

fuzz_target!(|data: &[u8]| {
    let _ = RegisterBrokerBody::decode(data, false);
    let _ = RegisterBrokerBody::decode(data, true);
    let _ = json::normalize(data);
    let _ = json::from_slice::<HeartbeatData>(data);
    let _ = json::from_slice::<LockBatchRequestBody>(data);
    if let Ok(body) = RegisterBrokerBody::decode(data, false) {
        // What the name server stores re-encodes to a body it accepts again.
        RegisterBrokerBody::decode(&body.encode(), false).expect("a re-encoded body decodes");
    }
});
