//! Which background tasks a broker runs, and what each one is handed.
//!
//! Every task gets a struct of the few handles it uses (never the whole broker), is spawned on
//! the broker's `TaskTracker` and stops on its `CancellationToken`; `Broker::shutdown` cancels
//! and awaits them all. Reading this file tells which task touches which state.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::housekeeping::{ClientConnections, Housekeeping};
use crate::known_master::KnownMaster;
use crate::metrics_endpoint::{self, MetricsSources};
use crate::parts::BrokerParts;
use crate::pop::revive::Revive;
use crate::registration::{self, Registration};
use crate::schedule::DelayDelivery;
use crate::slave_sync::{self, SlaveSync};
use crate::transaction_check::TransactionCheck;
use crate::BrokerError;

/// Starts every background task of the broker's role; returns the registration state the
/// broker needs again to unregister at shutdown.
pub(crate) async fn start(
    p: &BrokerParts,
    clients: ClientConnections,
) -> Result<Arc<Registration>, BrokerError> {
    let b = &p.config.broker;
    metrics_endpoint::start(
        b,
        MetricsSources {
            metrics: p.metrics.clone(),
            store: p.store.clone(),
            consumers: p.consumers.clone(),
            offsets: p.offsets.clone(),
        },
        &p.tasks,
        p.shutdown.clone(),
    )
    .await?;
    p.stats.start_sampler(&p.tasks, p.shutdown.clone());
    let registration = Arc::new(Registration {
        config: p.live.clone(),
        topics: p.topics.clone(),
        outbound: p.outbound.clone(),
        wanted: p.registration.clone(),
        master: KnownMaster::default(),
        ha: p.ha.clone(),
        broker_addr: p.store_host.to_string(),
        ha_addr: crate::context::ha_addr(&p.config, p.store_host),
    });
    // In controller mode the broker stays off the name servers, and runs neither role's
    // tasks, until the controllers give it a role (`controller_mode`).
    let controlled = p.config.controller.enable_controller_mode;
    if !controlled {
        registration::start(&registration, &p.tasks, &p.shutdown);
    }
    Housekeeping {
        topics: p.topics.clone(),
        groups: p.groups.clone(),
        offsets: p.offsets.clone(),
        clients,
        arrivals: p.arrivals.clone(),
        flush_offsets_every: Duration::from_millis(b.flush_consumer_offset_interval),
        channel_expired_timeout: Duration::from_millis(b.channel_expired_timeout),
    }
    .start(&p.tasks, &p.shutdown);
    if controlled {
        crate::controller_mode::start(p, registration.clone());
    } else if p.config.store.broker_role == rmq_store::BrokerRole::Slave {
        start_slave_tasks(p, &registration, p.shutdown.clone());
    } else {
        start_master_tasks(p, p.shutdown.clone())?;
    }
    Ok(registration)
}

/// A slave's tasks: copying the master's metadata. They stop on `stop`.
pub(crate) fn start_slave_tasks(
    p: &BrokerParts,
    registration: &Registration,
    stop: CancellationToken,
) {
    slave_sync::start(
        SlaveSync {
            outbound: p.outbound.clone(),
            master: registration.master.clone(),
            topics: p.topics.clone(),
            offsets: p.offsets.clone(),
            delay_offsets: p.delay_offsets.clone(),
            groups: p.groups.clone(),
            registration: p.registration.clone(),
        },
        &p.tasks,
        stop,
    );
}

/// A master's tasks: delayed and timer delivery, transaction checks, POP revival. They stop on
/// `stop`.
pub(crate) fn start_master_tasks(
    p: &BrokerParts,
    stop: CancellationToken,
) -> Result<(), BrokerError> {
    let b = &p.config.broker;
    DelayDelivery {
        store: p.store.clone(),
        levels: p.delay_levels.clone(),
        offsets: p.delay_offsets.clone(),
        arrivals: p.arrivals.clone(),
        store_host: p.store_host,
    }
    .start(&p.tasks, &stop);
    TransactionCheck {
        store: p.store.clone(),
        op_log: p.op_log.clone(),
        offsets: p.offsets.clone(),
        producers: p.producers.clone(),
        topics: p.topics.clone(),
        registration: p.registration.clone(),
        store_host: p.store_host,
        broker_name: b.broker_name.clone(),
        timeout_ms: b.transaction_time_out as i64,
        check_max: b.transaction_check_max,
        interval: Duration::from_millis(b.transaction_check_interval.max(100)),
    }
    .start(&p.tasks, stop.clone());
    let rw = rmq_common::perm::READ | rmq_common::perm::WRITE;
    p.topics.ensure(
        crate::timer::TIMER_TOPIC,
        crate::timer::TIMER_QUEUES,
        rw,
        &p.registration,
    )?;
    crate::timer::TimerDelivery {
        store: p.store.clone(),
        offsets: p.offsets.clone(),
        arrivals: p.arrivals.clone(),
        store_host: p.store_host,
        metrics: p.metrics.clone(),
    }
    .start(&p.tasks, &stop);
    p.topics
        .ensure(&p.pop.revive_topic, 1, rw, &p.registration)?;
    Revive {
        pop: p.pop.clone(),
        store: p.store.clone(),
        groups: p.groups.clone(),
        topics: p.topics.clone(),
        offsets: p.offsets.clone(),
        registration: p.registration.clone(),
        clients: p.live_clients.clone(),
        store_host: p.store_host,
        renew_ms: b.default_invisible_time_mills as i64,
    }
    .start(&p.tasks, stop.clone());
    Ok(())
}
