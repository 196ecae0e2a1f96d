//! Telemetry: the bidirectional stream each 5.x client opens first. The client sends its
//! Settings; the broker answers with the complete server settings (retry back-off, publishing or
//! subscription settings, metrics) before anything else, and again for every Settings it sends.
//! The same stream carries the broker's questions to the client (an admin's request for its
//! thread dump, or to consume one message) and the client's answers, matched by nonce.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use std::collections::HashMap;

use rmq_common::record::{peek_record, Peek};
use rmq_proto::v2::{
    retry_policy, settings, telemetry_command, Code, CustomizedBackoff, ExponentialBackoff, Metric,
    PrintThreadStackTraceCommand, Publishing, RetryPolicy, Settings, Status, Subscription,
    TelemetryCommand, VerifyMessageCommand,
};
use tokio::sync::{mpsc, oneshot};

use rmq_proto::v2::FilterType;
use rmq_remoting::body::{Connection, SubscriptionData};
use rmq_remoting::LanguageCode;

use super::message_view::to_message;
use super::metadata::Caller;
use super::status::ok;
use super::status::status;
use super::transaction::{producer_group, recovery_command};
use crate::context::BrokerContext;
use crate::live_clients::{ClientAnswer, ClientAsk, ClientCall, GrpcConsumer, CALLS_QUEUED};

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
        let (calls_tx, mut calls) = mpsc::channel::<ClientCall>(CALLS_QUEUED);
        ctx.live_clients().serve_calls(&caller.client_id, calls_tx);
        // Questions put to the client, by nonce, until it answers or the asker gives up.
        let mut asked: HashMap<String, oneshot::Sender<ClientAnswer>> = HashMap::new();
        let mut nonces = 0u64;
        // Producer groups this client answers transaction checks for (one per topic).
        let mut checking: Vec<String> = Vec::new();
        loop {
            let next = tokio::select! {
                _ = ctx.shutting_down() => break,
                Some(call) = calls.recv() => {
                    asked.retain(|_, waiting| !waiting.is_closed());
                    nonces += 1;
                    let nonce = nonces.to_string();
                    let Some(question) = question(&caller, &nonce, &call.ask) else {
                        let _ = call.answer.send(ClientAnswer {
                            code: Code::MessageCorrupted as i32,
                            message: "the stored message is unreadable".into(),
                            thread_stack_trace: None,
                        });
                        continue;
                    };
                    asked.insert(nonce, call.answer);
                    if tx.send(Ok(question)).await.is_err() {
                        break;
                    }
                    continue;
                }
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
                Some(telemetry_command::Command::ThreadStackTrace(t)) => {
                    answer(&mut asked, &t.nonce, cmd.status, t.thread_stack_trace);
                }
                Some(telemetry_command::Command::VerifyMessageResult(v)) => {
                    answer(&mut asked, &v.nonce, cmd.status, None);
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

/// The Telemetry command that puts `ask` to the client.
fn question(caller: &Caller, nonce: &str, ask: &ClientAsk) -> Option<TelemetryCommand> {
    let command = match ask {
        ClientAsk::ThreadStackTrace => {
            telemetry_command::Command::PrintThreadStackTraceCommand(PrintThreadStackTraceCommand {
                nonce: nonce.to_owned(),
            })
        }
        ClientAsk::VerifyMessage(record) => {
            let Ok(Peek::Record(v)) = peek_record(record, false) else {
                return None;
            };
            telemetry_command::Command::VerifyMessageCommand(VerifyMessageCommand {
                nonce: nonce.to_owned(),
                message: Some(to_message(caller, &v, None)),
            })
        }
    };
    Some(TelemetryCommand {
        status: None,
        command: Some(command),
    })
}

/// Hands the client's answer to the question `nonce` to whoever asked it.
fn answer(
    asked: &mut HashMap<String, oneshot::Sender<ClientAnswer>>,
    nonce: &str,
    st: Option<Status>,
    thread_stack_trace: Option<String>,
) {
    let Some(waiting) = asked.remove(nonce) else {
        tracing::debug!(nonce, "an answer to no open question (asked too long ago?)");
        return;
    };
    let st = st.unwrap_or_else(|| status(Code::Ok, ""));
    let _ = waiting.send(ClientAnswer {
        code: st.code,
        message: st.message,
        thread_stack_trace,
    });
}

/// Lists a consumer's client with its group, as `mqadmin consumerConnection` shows it.
fn register_consumer(ctx: &BrokerContext, caller: &Caller, sub: &Subscription) {
    let Some(group) = sub.group.as_ref().filter(|g| !g.name.is_empty()) else {
        return;
    };
    let group_name = caller.namespaced(&group.name);
    if let Err(e) = crate::processor::join_group(ctx, &group_name) {
        tracing::warn!(group = %group_name, client = %caller.client_id, error = %e, "a 5.x consumer's group or its retry topic could not be created");
    }
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
            group: group_name,
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
