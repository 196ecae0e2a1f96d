//! `apache.rocketmq.v2.Status` values and the mapping from the broker's remoting answers.

use rmq_proto::v2::{Code, Status};
use rmq_remoting::transport::ProcessError;
use rmq_remoting::ResponseCode;

pub fn ok() -> Status {
    status(Code::Ok, "OK")
}

pub fn status(code: Code, message: impl Into<String>) -> Status {
    Status {
        code: code as i32,
        message: message.into(),
    }
}

/// What an RPC rmq does not serve yet answers, naming it.
pub fn not_implemented(rpc: &str) -> Status {
    status(
        Code::NotImplemented,
        format!("{rpc} is not implemented by this broker yet"),
    )
}

/// The gRPC code for a remoting response code (Apache's proxy maps them the same way).
pub fn from_response_code(code: i32, remark: impl Into<String>) -> Status {
    let c = match ResponseCode::from(code) {
        ResponseCode::Success => Code::Ok,
        ResponseCode::FlushDiskTimeout => Code::MasterPersistenceTimeout,
        ResponseCode::FlushSlaveTimeout => Code::SlavePersistenceTimeout,
        ResponseCode::SlaveNotAvailable => Code::HaNotAvailable,
        ResponseCode::MessageIllegal => Code::MessageBodyTooLarge,
        ResponseCode::TopicNotExist => Code::TopicNotFound,
        ResponseCode::NoPermission => Code::Forbidden,
        ResponseCode::SystemBusy => Code::TooManyRequests,
        ResponseCode::InvalidParameter => Code::BadRequest,
        ResponseCode::ServiceNotAvailable => Code::InternalServerError,
        _ => Code::InternalError,
    };
    status(c, remark)
}

/// A broker processing error as a Status.
pub fn from_process_error(e: &ProcessError) -> Status {
    match e {
        ProcessError::Response { code, remark } => from_response_code(*code, remark.clone()),
        other => status(Code::BadRequest, other.to_string()),
    }
}
