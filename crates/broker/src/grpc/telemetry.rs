//! Telemetry: the bidirectional stream each 5.x client opens first. The client sends its
//! Settings; the broker answers with the complete server settings (retry back-off, publishing or
//! subscription settings, metrics) before anything else, and again for every Settings it sends.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use rmq_proto::v2::{
    retry_policy, settings, telemetry_command, CustomizedBackoff, ExponentialBackoff, Metric,
    Publishing, RetryPolicy, Settings, Subscription, TelemetryCommand,
};
use tokio::sync::mpsc;

use rmq_proto::v2::FilterType;
use rmq_remoting::body::{Connection, SubscriptionData};
use rmq_remoting::LanguageCode;

use super::metadata::Caller;
use super::status::ok;
use super::transaction::{producer_group, recovery_command};
use crate::context::BrokerContext;
use crate::live_clients::GrpcConsumer;

/// The server half of a Telemetry stream.
pub type TelemetryStream =
    Pin<Box<dyn Stream<Item = Result<TelemetryCommand, tonic::Status>> + Send + 'static>>;

/// Producer retries: 3 attempts, 10 ms doubling up to 1 s (Apache's proxy defaults).
const PRODUCER_MAX_ATTEMPTS: i32 = 3;
const RECEIVE_BATCH_SIZE: i32 = 32;

pub fn telemetry(
    ctx: Arc<BrokerContext>,
    caller: Caller,
    mut inbound: tonic::Streaming<TelemetryCommand>,
) -> TelemetryStream {
    let (tx, rx) = mpsc::channel::<Result<TelemetryCommand, tonic::Status>>(16);
    let tasks = ctx.tasks().clone();
    tasks.spawn(async move {
        let _connected = ctx.live_clients().connect(&caller.client_id);
        // Producer groups this client answers transaction checks for (one per topic).
        let mut checking: Vec<String> = Vec::new();
        loop {
            let next = tokio::select! {
                _ = ctx.shutting_down() => break,
                n = inbound.message() => n,
            };
            let cmd = match next {
                Ok(Some(cmd)) => cmd,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(client = %caller.client_id, error = %e, "telemetry stream ended");
                    break;
                }
            };
            match cmd.command {
                Some(telemetry_command::Command::Settings(s)) => {
                    if let Some(settings::PubSub::Publishing(p)) = &s.pub_sub {
                        for t in &p.topics {
                            let group = producer_group(&caller, &t.name);
                            let to_client = tx.clone();
                            ctx.producers().check_backs.register(
                                &group,
                                &caller.client_id,
                                Arc::new(move |check| {
                                    to_client.try_send(Ok(recovery_command(check))).is_ok()
                                }),
                            );
                            if !checking.contains(&group) {
                                checking.push(group);
                            }
                        }
                    }
                    if let Some(settings::PubSub::Subscription(sub)) = &s.pub_sub {
                        register_consumer(&ctx, &caller, sub);
                    }
                    tracing::debug!(
                        client = %caller.client_id,
                        language = %caller.language,
                        version = %caller.version,
                        client_type = ?s.client_type,
                        "client settings"
                    );
                    let reply = TelemetryCommand {
                        status: Some(ok()),
                        command: Some(telemetry_command::Command::Settings(server_settings(
                            &ctx, s,
                        ))),
                    };
                    if tx.send(Ok(reply)).await.is_err() {
                        break;
                    }
                }
                Some(telemetry_command::Command::RecoverOrphanedTransactionCommand(_)) => {
                    // The client answers a check with EndTransaction, not here.
                }
                other => {
                    tracing::debug!(client = %caller.client_id, command = ?other.map(|c| std::mem::discriminant(&c)), "telemetry command ignored");
                }
            }
        }
        for group in &checking {
            ctx.producers()
                .check_backs
                .unregister(group, &caller.client_id);
        }
    });
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|v| (v, rx))
    }))
}

/// Lists a consumer's client with its group, as `mqadmin consumerConnection` shows it.
fn register_consumer(ctx: &BrokerContext, caller: &Caller, sub: &Subscription) {
    let Some(group) = sub.group.as_ref().filter(|g| !g.name.is_empty()) else {
        return;
    };
    let subscriptions = sub
        .subscriptions
        .iter()
        .filter_map(|e| {
            let topic = e.topic.as_ref()?;
            let expr = e.expression.as_ref();
            let text = expr
                .map_or("*", |f| f.expression.as_str())
                .trim()
                .to_owned();
            let sql = expr.is_some_and(|f| f.r#type == FilterType::Sql as i32);
            let tags: std::collections::BTreeSet<String> = if sql || text.is_empty() || text == "*"
            {
                Default::default()
            } else {
                text.split("||")
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect()
            };
            Some(SubscriptionData {
                code_set: tags
                    .iter()
                    .map(|t| rmq_common::java::string_hash_code(t))
                    .collect(),
                expression_type: if sql { "SQL92" } else { "TAG" }.to_owned(),
                sub_string: if text.is_empty() {
                    "*".to_owned()
                } else {
                    text
                },
                sub_version: rmq_common::time::now_millis(),
                tags_set: tags,
                topic: caller.namespaced(&topic.name),
                ..SubscriptionData::default()
            })
        })
        .collect();
    ctx.live_clients().set_consumer(
        &caller.client_id,
        GrpcConsumer {
            group: caller.namespaced(&group.name),
            connection: Connection {
                client_addr: caller.peer.map(|p| p.to_string()).unwrap_or_default(),
                client_id: caller.client_id.clone(),
                language: LanguageCode::from_name(&caller.language).unwrap_or(LanguageCode::Other),
                version: 0,
            },
            subscriptions,
        },
    );
}

fn duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// The client's settings completed with the broker's.
fn server_settings(ctx: &BrokerContext, client: Settings) -> Settings {
    let mut s = client;
    s.metric = Some(Metric {
        on: false,
        endpoints: None,
    });
    match s.pub_sub.take() {
        Some(settings::PubSub::Publishing(p)) => {
            s.backoff_policy = Some(RetryPolicy {
                max_attempts: PRODUCER_MAX_ATTEMPTS,
                strategy: Some(retry_policy::Strategy::ExponentialBackoff(
                    ExponentialBackoff {
                        initial: Some(duration(Duration::from_millis(10))),
                        max: Some(duration(Duration::from_secs(1))),
                        multiplier: 2.0,
                    },
                )),
            });
            s.pub_sub = Some(settings::PubSub::Publishing(Publishing {
                topics: p.topics,
                max_body_size: i32::try_from(ctx.config().store.max_message_size)
                    .unwrap_or(i32::MAX),
                validate_message_type: true,
            }));
        }
        Some(settings::PubSub::Subscription(sub)) => {
            let group = sub
                .group
                .as_ref()
                .map(|g| g.name.clone())
                .unwrap_or_default();
            let config = ctx.groups().get(&group);
            let retry_max = config.as_ref().map_or(16, |g| g.retry_max_times);
            // Redelivery n waits delay level n + 2, as the remoting retry topic does.
            let levels = ctx.delay_levels();
            let next = (3..=levels.max_level())
                .map(|l| duration(levels.delay(l)))
                .collect();
            s.backoff_policy = Some(RetryPolicy {
                max_attempts: retry_max.saturating_add(1),
                strategy: Some(retry_policy::Strategy::CustomizedBackoff(
                    CustomizedBackoff { next },
                )),
            });
            s.pub_sub = Some(settings::PubSub::Subscription(Subscription {
                group: sub.group,
                subscriptions: sub.subscriptions,
                fifo: Some(config.is_some_and(|g| g.consume_message_orderly)),
                receive_batch_size: Some(RECEIVE_BATCH_SIZE),
                // The longest a receive waits (grpcClientConsumerMaxLongPollingTimeoutMillis).
                long_polling_timeout: Some(duration(Duration::from_millis(
                    ctx.config()
                        .broker
                        .grpc_client_consumer_max_long_polling_timeout_millis,
                ))),
                lite_subscription_quota: sub.lite_subscription_quota,
                max_lite_topic_size: sub.max_lite_topic_size,
            }));
        }
        None => {}
    }
    s
}
