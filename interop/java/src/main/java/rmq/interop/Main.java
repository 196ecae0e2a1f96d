package rmq.interop;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the conformance checks against a running name server and broker and prints one
 * {@code PASS name counts} or {@code FAIL name counts: problems} line per check, then
 * {@code N passed, M failed}. Exit status: the number of failed checks (capped at 100).
 *
 * <p>Usage: {@code Main NAMESRV [check ...]}; without check names every check runs.
 */
public final class Main {
    static Map<String, Check> all() {
        Map<String, Check> m = new LinkedHashMap<>();
        for (Check c : List.of(
                new ProducerChecks.Sync(),
                new ProducerChecks.Async(),
                new ProducerChecks.Oneway(),
                new ProducerChecks.Batch(),
                new ProducerChecks.Delay(),
                new ProducerChecks.AutoCreate(),
                new ProducerChecks.Oversize(),
                new OrderChecks.Selector(),
                new TransactionChecks.Outcomes(),
                new ConsumerChecks.Broadcast(),
                new ConsumerChecks.RetryToDlq(),
                new ConsumerChecks.FromTimestamp(),
                new SqlChecks.PushSql(),
                new RequestReplyChecks.RequestReply(),
                new PullChecks.LiteSubscribe(),
                new PullChecks.LiteAssignSeek(),
                new PullChecks.PullConsumer(),
                new AdminChecks.ClusterAndTopics(),
                new AdminChecks.Groups(),
                new AdminChecks.LiveGroup(),
                new AdminChecks.ProducerConnections(),
                new AdminChecks.QueryMessages(),
                new AdminChecks.ResetOffset(),
                new AdminChecks.BrokerRuntimeAndConfig(),
                new AdminChecks.KvConfig(),
                new AclChecks.Plain())) {
            m.put(c.name(), c);
        }
        for (Check c : Compat.versionChecks()) {
            m.put(c.name(), c);
        }
        return m;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Main NAMESRV [check ...]; checks: " + all().keySet());
            System.exit(2);
        }
        Env env = new Env(args[0], System.getProperty("rmq.cluster", "DefaultCluster"));
        Map<String, Check> checks = all();
        List<String> names = args.length > 1
                ? Arrays.asList(args).subList(1, args.length)
                : new ArrayList<>(checks.keySet());
        // ACL checks need a broker with aclEnable=true (.ci/java-acl.sh): run only when named.
        if (args.length == 1) names.removeIf(n -> n.startsWith("acl-"));
        int passed = 0;
        int failed = 0;
        String version = org.apache.rocketmq.common.MQVersion.getVersionDesc(
                org.apache.rocketmq.common.MQVersion.CURRENT_VERSION);
        System.out.println("java client " + version + " against " + env.namesrv);
        for (String name : names) {
            Check c = checks.get(name);
            if (c == null) {
                System.out.println("FAIL " + name + ": no such check (known: " + checks.keySet() + ")");
                failed++;
                continue;
            }
            Outcome o;
            long start = System.currentTimeMillis();
            try {
                o = c.run(env);
            } catch (Throwable t) {
                o = new Outcome().expect(false, "threw " + t);
                t.printStackTrace();
            }
            long ms = System.currentTimeMillis() - start;
            if (o.passed()) {
                passed++;
                System.out.println("PASS " + name + " " + o.counts() + " (" + ms + " ms)");
            } else {
                failed++;
                System.out.println("FAIL " + name + " " + o.counts() + " (" + ms + " ms): "
                        + String.join("; ", o.problems()));
            }
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(Math.min(failed, 100));
    }
}
