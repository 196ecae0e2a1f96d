package rmq.interop;

import java.util.UUID;

/** The cluster under test and helpers every check shares. */
public final class Env {
    public final String namesrv;
    public final String cluster;
    /** A suffix that makes topic and group names unique to this run. */
    public final String run = UUID.randomUUID().toString().substring(0, 8);

    public Env(String namesrv, String cluster) {
        this.namesrv = namesrv;
        this.cluster = cluster;
    }

    public String topic(String base) {
        return base + "_" + run;
    }

    public String group(String base) {
        return base + "_" + run;
    }

    /**
     * How long a check waits for a push consumer's first deliveries. Longer than the clients'
     * heartbeatBrokerInterval (30 s): a new push consumer whose post-rebalance heartbeat loses the
     * race with its first pulls (the heartbeat lock is busy) is answered SUBSCRIPTION_NOT_LATEST by
     * Apache's broker until its next periodic heartbeat, so on Apache (4.9.7 and 5.5.0 alike) a
     * consumer can sit idle for up to 30 s after it starts (apache/rocketmq#3434). Waits end as
     * soon as the messages arrive; only a failing check waits this long.
     */
    public static final long DELIVERY_MS = 45_000;

    /** Polls {@code cond} every 50 ms until it holds or {@code millis} pass. */
    public static boolean waitFor(long millis, java.util.function.BooleanSupplier cond)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            if (cond.getAsBoolean()) return true;
            Thread.sleep(50);
        }
        return cond.getAsBoolean();
    }
}
