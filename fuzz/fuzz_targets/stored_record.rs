//! Bytes read back from a CommitLog or received in a pull response: the stored-record decoder
//! (with and without CRC check), the batch body a producer sends, the properties string inside a
//! record and the offset message id a user pastes into a lookup.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rmq_common::{batch, message, msg_id, record};

fuzz_target!(|data: &[u8]| {
    let bytes = Bytes::copy_from_slice(data);
    let _ = record::peek_record(data, true);
    let _ = record::peek_record(data, false);
    if let Ok(msgs) = record::decode_messages(&bytes) {
        for m in msgs {
            let _ = m.message.properties.len();
        }
    }
    if let Ok(entries) = batch::decode_batch(&bytes) {
        // What decoded encodes again to something that decodes to the same entries.
        if let Ok(again) = batch::encode_batch(&entries) {
            let round = batch::decode_batch(&again).expect("a re-encoded batch decodes");
            assert_eq!(round.len(), entries.len());
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let props = message::decode_properties(text);
        let _ = message::encode_properties(&props);
        let _ = message::properties::find_property(text, "KEYS");
        let _ = msg_id::decode_offset_msg_id(text);
    }
});
