//! The gRPC side of the component tests: a tonic client of the broker's MessagingService and
//! the request metadata the 5.x clients send.

use rmq_proto::v2::messaging_service_client::MessagingServiceClient;
use rmq_proto::v2::Resource;
use tonic::transport::Channel;
use tonic::Request;

/// `msg` as client `client_id` sends it (`x-mq-client-id`, `x-mq-language`).
pub fn request<T>(client_id: &'static str, msg: T) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut()
        .insert("x-mq-client-id", client_id.parse().unwrap());
    r.metadata_mut()
        .insert("x-mq-language", "RUST".parse().unwrap());
    r
}

/// A topic or group by name, without a namespace.
pub fn resource(name: &str) -> Option<Resource> {
    Some(Resource {
        resource_namespace: String::new(),
        name: name.into(),
    })
}

/// A client of the MessagingService at `addr` (plaintext).
pub async fn connect(addr: std::net::SocketAddr) -> MessagingServiceClient<Channel> {
    MessagingServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}
