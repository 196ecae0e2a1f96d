//! Configuration text an operator writes: the `.properties` parser, every broker and name server
//! key applied and cross-checked as `mqbroker -c` and `mqnamesrv -c` do, the delay levels string
//! and the ACL 1.0 `plain_acl.yml` file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmq_broker::BrokerStartupConfig;
use rmq_common::config::parse_properties;
use rmq_common::delay::DelayLevels;
use rmq_namesrv::NamesrvConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pairs = parse_properties(text);
    let mut broker = BrokerStartupConfig::default();
    if broker.apply(&pairs).is_ok() {
        let _ = broker.validate();
    }
    let _ = NamesrvConfig::default().apply_pairs(&pairs);
    let _ = DelayLevels::parse(text);
    let _ = rmq_broker::acl::PlainAcl::parse(text);
});
