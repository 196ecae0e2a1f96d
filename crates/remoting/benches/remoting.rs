//! Header codec and loopback round-trip benchmarks.
//!
//! `cargo bench -p rmq-remoting -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures::StreamExt;
use rmq_remoting::header::{SendMessageRequestHeader, SendMessageRequestHeaderV2};
use rmq_remoting::{
    ClientConfig, RemotingClient, RemotingCommand, RemotingServer, RequestCode, ResponseCode,
    SerializeType, ServerConfig,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

fn send_request(ty: SerializeType) -> RemotingCommand {
    let header = SendMessageRequestHeaderV2 {
        a: "please_rename_unique_group_name".into(),
        b: "TopicTest".into(),
        c: "TBW102".into(),
        d: 4,
        e: 3,
        f: 0,
        g: 1_700_000_000_000,
        h: 0,
        i: Some("KEYS\u{1}order-1234\u{2}TAGS\u{1}TagA\u{2}UNIQ_KEY\u{1}7F0000010B6418B4AAC27E7AC8C60000\u{2}WAIT\u{1}true\u{2}".into()),
        j: Some(0),
        k: Some(false),
        l: None,
        m: Some(false),
        n: Some("broker-a".into()),
    };
    RemotingCommand::request(RequestCode::SendMessageV2, &header)
        .with_opaque(123_456)
        .with_body(Bytes::from(vec![b'x'; 1024]))
        .with_serialize_type(ty)
}

fn codec(c: &mut Criterion) {
    for (name, ty) in [
        ("json", SerializeType::Json),
        ("rocketmq", SerializeType::RocketMq),
    ] {
        let cmd = send_request(ty);
        let mut buf = BytesMut::with_capacity(4096);
        c.bench_function(&format!("send_v2_1k/{name}/encode"), |b| {
            b.iter(|| {
                buf.clear();
                cmd.encode(&mut buf);
                std::hint::black_box(buf.len());
            })
        });
        let frame = cmd.to_bytes().slice(4..);
        c.bench_function(&format!("send_v2_1k/{name}/decode"), |b| {
            b.iter(|| RemotingCommand::decode(std::hint::black_box(frame.clone())).unwrap())
        });
        c.bench_function(
            &format!("send_v2_1k/{name}/encode+decode+typed_header"),
            |b| {
                b.iter(|| {
                    buf.clear();
                    cmd.encode(&mut buf);
                    let frame = buf.split().freeze().slice(4..);
                    let back = RemotingCommand::decode(frame).unwrap();
                    SendMessageRequestHeader::from_command(&back).unwrap()
                })
            },
        );
    }
}

fn round_trips(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let token = CancellationToken::new();
    let addr = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let mut server = RemotingServer::new(ServerConfig::default());
        server.register(RequestCode::HeartBeat, |_ctx, req: RemotingCommand| async move {
            Ok(Some(req.response_to(ResponseCode::Success)))
        });
        tokio::spawn(server.run(listener, token.clone()));
        addr
    });
    let client = RemotingClient::new(ClientConfig::default());
    let request = RemotingCommand::new_request(RequestCode::HeartBeat)
        .with_body(Bytes::from_static(b"{\"clientID\":\"bench\"}"));
    rt.block_on(client.invoke(&addr, request.clone(), Duration::from_secs(5)))
        .unwrap();

    let mut group = c.benchmark_group("loopback_round_trip");
    group.throughput(Throughput::Elements(1));
    for in_flight in [1usize, 64] {
        group.bench_function(format!("in_flight_{in_flight}"), |b| {
            b.iter_custom(|iters| {
                let client = client.clone();
                let addr = addr.clone();
                let request = request.clone();
                rt.block_on(async move {
                    let start = Instant::now();
                    futures::stream::iter(0..iters)
                        .map(|_| client.invoke(&addr, request.clone(), Duration::from_secs(5)))
                        .buffer_unordered(in_flight)
                        .for_each(|r| {
                            r.unwrap();
                            async {}
                        })
                        .await;
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
    rt.block_on(client.shutdown());
    token.cancel();
}

fn typed_header(c: &mut Criterion) {
    let cmd = send_request(SerializeType::Json);
    c.bench_function("send_v2/typed_header_read", |b| {
        b.iter_batched(
            || cmd.clone(),
            |cmd| SendMessageRequestHeader::from_command(&cmd).unwrap(),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, codec, typed_header, round_trips);
criterion_main!(benches);
