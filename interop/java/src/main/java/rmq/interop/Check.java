package rmq.interop;

/** One conformance check: runs against the cluster in {@link Env} and reports exact counts. */
public interface Check {
    /** Short stable name, printed in the PASS/FAIL line and used to select checks. */
    String name();

    /** Runs the check; returns the outcome (never throws for an expected failure). */
    Outcome run(Env env) throws Exception;
}
