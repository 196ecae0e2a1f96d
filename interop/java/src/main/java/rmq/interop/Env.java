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
